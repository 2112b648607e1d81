"""`ShardLease`: the right to touch one collection's shard files, held by one Carrel
process at a time on this machine.

Qdrant Edge lets one process open a shard. A second one is refused, and its attempt
already damages the first's files: measured (qdrant-edge-py 0.9.0), the writer's next flush
failed with "tracker_journal.dat is shorter than expected", 4 times in 4. So no process
opens, creates or even tidies a shard's files without holding its lease, a lock file
beside the shard (`.lock-<collection>`; collection names cannot start with a dot).

A process that wants a collection another one holds registers as waiting (a lock file of
its own, `.wait-<collection>-<pid>-<n>`, so a killed waiter is no longer counted) and
polls; the holder sees it (`wanted`) and hands the shard over when it can: at once when
idle, between two groups of files during an ingest (`hand_over`). What the holder is
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
# takes it back itself (a waiter polls every `POLL_S`).
HAND_OVER_S = 2.0

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

    @property
    def held(self) -> bool:
        return self._lock.held

    def acquire(self, waiting: Waiting | None = None) -> None:
        """Take the lease, waiting (as a registered waiter) while another process has it;
        `waiting` is told what for about once a second."""
        if self._lock.try_acquire(self._holder()):
            return
        mark = FileLock(self.root / f".wait-{self.collection}-{os.getpid()}-{next(_serial)}")
        mark.acquire()
        try:
            self._lock.acquire(waiting=self._telling(waiting), holder=self._holder())
        finally:
            mark.release()
            mark.path.unlink(missing_ok=True)

    def release(self) -> None:
        self._lock.release()

    def describe(self, what: str) -> None:
        """Say what this process does with the collection ("reading", "adding files")."""
        self._what = what
        self._lock.describe(self._holder())

    def wanted(self) -> bool:
        """Whether another process is waiting for this collection."""
        for path in self.root.glob(f".wait-{self.collection}-*"):
            mark = FileLock(path)
            if not mark.try_acquire():
                return True  # held: its process is alive and waiting
            mark.release()
        return False

    def hand_over(self, waiting: Waiting | None = None) -> None:
        """Let a waiting process have the collection, then take it back (waiting, and
        telling `waiting`, for as long as the other keeps it). Call with every file of the
        shard closed."""
        self._lock.release()
        deadline = time.monotonic() + HAND_OVER_S
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            if not self._lock.try_acquire(self._holder()):
                break  # taken: wait our turn below
            if not self.wanted():
                return  # the waiter gave up or went
            self._lock.release()
        self.acquire(waiting)

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
