"""`ShardLease`: the right to touch one collection's shard files, held by one Carrel
process at a time on this machine.

Qdrant Edge lets one process open a shard. A second one is refused, and its attempt
already damages the first's files: measured (qdrant-edge-py 0.9.0), the writer's next flush
failed with "tracker_journal.dat is shorter than expected", 4 times in 4. So no process
opens, creates or even tidies a shard's files without holding its lease, a lock file
beside the shard (`.lock-<key>`, the collection's key of `app.rag.naming`, which never starts
with a dot).

A process that wants a collection another one holds registers as waiting (a lock file of
its own, `.wait-<collection>-<pid.lease>-<n>-<r|w>`, so a killed waiter is no longer counted;
`r` for one that only reads) and polls; the holder sees it (`wanted`) and hands the shard
over when it can (`hand_over`): at once when idle; during an ingest, to a reader after
any batch of passages, to a writer only between two groups of files. What the holder is
doing is written into the lock file for the waiter's progress line (`holder`).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

from app.locks import POLL_S, FileLock

# How long a process that handed the shard over waits for a waiter to take it, before it
# takes it back itself (a waiter polls every `POLL_S`; on a busy machine a waiting process
# may not run for a second or more).
HAND_OVER_S = 5.0

# The key, in the lock file, of the lease that handed the shard over in the middle of an
# add: until it has the shard back, only readers may take it.
MID_ADD = "mid_add"

# Told, about once a second while waiting, what for: a line for a person.
Waiting = Callable[[str], None]

_serial = itertools.count()


class ShardLease:
    """The lease of collection `collection` whose shard lives in `root/collection`."""

    def __init__(self, root: Path, collection: str) -> None:
        self.root = root
        self.collection = collection
        self._lock = FileLock(root / f".lock-{collection}")
        self._what = "reading"
        # Names this lease's waiting marks (two leases of one collection in one process
        # are as two processes).
        self._me = f"{os.getpid()}.{next(_serial)}"
        # Taken as a reader from a process in the middle of an add: no writing with it.
        self.mid_add = False

    @property
    def held(self) -> bool:
        return self._lock.held

    def acquire(self, waiting: Waiting | None = None, *, reading: bool = False) -> None:
        """Take the lease, waiting (as a registered waiter, a reader or not) while another
        process has it; `waiting` is told what for about once a second."""
        if self._take(reading):
            return
        mark = self._mark(reading)
        try:
            self._wait(reading, waiting)
        finally:
            _unmark(mark)

    def _mark(self, reading: bool) -> FileLock:
        """Register this process as waiting (the holder sees it: `wanted`)."""
        kind = "r" if reading else "w"
        name = f".wait-{self.collection}-{self._me}-{next(_serial)}-{kind}"
        mark = FileLock(self.root / name)
        mark.acquire()
        return mark

    def _wait(self, reading: bool, waiting: Waiting | None) -> None:
        tell = self._telling(waiting)
        started = told = time.monotonic()
        if tell is not None:
            tell(0)
        while not self._take(reading):
            time.sleep(POLL_S)
            if tell is not None and time.monotonic() - told >= 1.0:
                told = time.monotonic()
                tell(told - started)

    def _take(self, reading: bool) -> bool:
        """Take the lease if it is free and, for a writer, not handed over in the middle
        of an add (only a reader may have it then: the add's files are half in). A reader
        that takes it so passes the mark on, for the writer after it."""
        if not self._lock.try_acquire():
            return False
        adding = str(self._lock.holder().get(MID_ADD, ""))
        if adding and (adding == self._me or not self._waits(adding)):
            adding = ""  # our own, or its process has gone
        if adding and not reading:
            self._lock.release()
            return False
        self.mid_add = bool(adding)
        self._lock.describe({**self._holder(), **({MID_ADD: adding} if adding else {})})
        return True

    def _waits(self, who: str) -> bool:
        """Whether the lease `who` (of a live process) is waiting for this collection."""
        for path in self.root.glob(f".wait-{self.collection}-{who}-*"):
            mark = FileLock(path)
            if not mark.try_acquire():
                return True
            mark.release()
        return False

    def release(self) -> None:
        self._lock.release()

    def describe(self, what: str) -> None:
        """Say what this process does with the collection ("reading", "adding files")."""
        self._what = what
        self._lock.describe(self._holder())

    def wanted(self, *, readers_only: bool = False) -> bool:
        """Whether another process is waiting for this collection (one that only reads)."""
        pattern = f".wait-{self.collection}-*" + ("-r" if readers_only else "")
        ours = f".wait-{self.collection}-{self._me}-"
        for path in self.root.glob(pattern):
            if path.name.startswith(ours):
                continue
            mark = FileLock(path)
            if not mark.try_acquire():
                return True  # held: its process is alive and waiting
            mark.release()
        return False

    def hand_over(self, waiting: Waiting | None = None, *, mid_add: bool = False) -> None:
        """Let a waiting process have the collection (in the middle of an add, `mid_add`,
        only a reader), then take it back (waiting, and telling `waiting`, for as long as
        the other keeps it). Call with every file of the shard closed."""
        mark = self._mark(reading=False)  # first: a writer must see that this one waits
        try:
            marked = {**self._holder(), **({MID_ADD: self._me} if mid_add else {})}
            self._lock.describe(marked)
            self._lock.release()
            # The lease is left alone meanwhile (taking it to look would be a moment in
            # which the waiter's own try fails): a waiter that takes it removes its mark.
            deadline = time.monotonic() + HAND_OVER_S
            while time.monotonic() < deadline and self.wanted(readers_only=mid_add):
                time.sleep(POLL_S)
            self._wait(False, waiting)  # at once if nobody took it, else after them
        finally:
            _unmark(mark)

    def holder(self) -> str:
        """'Carrel process 1234, which is adding files' for a waiting process's line."""
        info = self._lock.holder()
        pid = info.get("pid", "?")
        return f"Carrel process {pid}, which is {info.get('what', 'using it')}"

    def _holder(self) -> dict[str, str]:
        return {"what": self._what, "collection": self.collection}

    def _telling(self, waiting: Waiting | None) -> Callable[[float], None] | None:
        if waiting is None:
            return None

        def tell(seconds: float) -> None:
            waiting(
                f"'{self.collection}' is in use by {self.holder()}; waiting for it "
                f"({seconds:.0f} s)"
            )

        return tell


def _unmark(mark: FileLock) -> None:
    mark.release()
    mark.path.unlink(missing_ok=True)
