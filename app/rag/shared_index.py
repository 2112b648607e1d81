"""`SharedIndex`: a collection's shard as the app opens it, shared by the Carrel processes
of one machine (two windows, a window and a shell) and kept off a full disk.

Sharing. Only the process holding the collection's lease (`app.rag.lease`) touches its
files. Another process that wants the collection waits, saying for whom, instead of being
refused; the holder hands the shard over as soon as it can (`offer_turn`, called by the
ingest), taking it back afterwards: at once when it is idle (a watcher thread sees the
waiter); during an ingest, to a process that only reads after any batch of passages (it
sees the files recorded so far and the first passages of the one being added), to one
that writes between two groups of files, when no add is half done. A search's wait is
then about one batch of the ingest, a second add's about one group (BENCHMARKS.md, Issue
14).

Disk. Before the engine opens or grows the shard, the free space it may need is checked
(`app.disk`: the sparse vector chunks it fills in plus `WRITE_MARGIN` for a write), so a
full disk stops a write with one line instead of a SIGBUS; what was committed stays, and
the collection stays readable when there is room to open it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app import disk
from app.errors import NoSpaceError
from app.rag.index import EdgeIndex
from app.rag.lease import ShardLease, Waiting
from app.rag.points import Hit, IndexPoint, Mode, Stored

# What opening a shard may write besides filling its vector chunks (a WAL segment header,
# the id tracker); and what one write step may add: a new 32 MB vector chunk, a new
# 32 MB WAL segment, and the step's own points.
OPEN_MARGIN = 4 * disk.MB
WRITE_MARGIN = 64 * disk.MB
# The engine's dense vector files, filled in when the shard is opened.
CHUNKS = "segments/*/vector_storage-*/vectors/chunk_*.mmap"
# How often an idle holder looks for a process waiting for the collection.
WATCH_S = 0.25


class SharedIndex(EdgeIndex):
    """An `EdgeIndex` held under the collection's lease (see the module). `waiting` is
    told, about once a second, for whom this process waits when it does."""

    def __init__(
        self,
        folder: Path,
        dim: int,
        collection: str,
        *,
        waiting: Waiting | None = None,
        reading: bool = False,
        **options: Any,
    ) -> None:
        """`reading`: this first opening only reads (see the module)."""
        self.waiting = waiting
        self._lease = ShardLease(folder.parent, folder.name)  # the collection's key
        self._turn = threading.Condition()  # guards `_users` and `_aside`
        self._users = 0  # calls under way in this process
        self._aside = False  # the files are closed and the lease is another's
        self._stop = threading.Event()
        self._lease.acquire(waiting, reading=reading)
        try:
            super().__init__(folder, dim, collection, **options)
        except BaseException:
            self._lease.release()
            raise
        self._watcher = threading.Thread(
            target=self._watch, name=f"carrel-lease-{collection}", daemon=True
        )
        self._watcher.start()

    # the files -------------------------------------------------------------------------

    def _open_files(self, create: bool) -> None:
        disk.require(self.folder.parent, disk.holes(self.folder, CHUNKS) + OPEN_MARGIN)
        super()._open_files(create)

    def _room_to_write(self, points: int = 0) -> None:
        need = disk.holes(self.folder, CHUNKS) + WRITE_MARGIN + points * 8_000
        disk.require(self.folder.parent, need)

    def others_waiting(self) -> bool:
        """Whether another process waits for the collection (it may be in the middle of an
        add: what its records say is pending is not to be undone)."""
        return self._lease.wanted()

    @contextmanager
    def _using(self, *, reading: bool = False) -> Iterator[None]:
        """One call on the shard: taken back first if it was handed over, and taken again
        as a writer for a write if it was had as a reader in another's add."""
        with self._turn:
            if not self._aside and not reading and self._lease.mid_add:
                self._close_files()
                self._lease.release()
                self._aside = True
            if self._aside:
                self._lease.acquire(self.waiting, reading=reading)
                try:
                    self._open_files(create=False)
                except BaseException:
                    self._lease.release()
                    raise
                self._aside = False
            self._users += 1
        try:
            yield
        except Exception as exc:
            if disk.is_full(exc):
                free = disk.free_bytes(self.folder.parent)
                raise NoSpaceError(self.folder.parent, WRITE_MARGIN, free) from exc
            raise
        finally:
            with self._turn:
                self._users -= 1
                self._turn.notify_all()

    # handing over ----------------------------------------------------------------------

    def offer_turn(
        self, waiting: Callable[[str], None] | None = None, *, mid_add: bool = False
    ) -> None:
        """If another process waits for the collection, let it have it, then take it back:
        between two groups of an ingest (nothing half written), or, `mid_add`, after a
        batch of an add, to a process that only reads."""
        if not self._lease.wanted(readers_only=mid_add):
            return
        with self._turn:
            while self._users:
                self._turn.wait()
            if self._aside or self.indexing:
                return
            self._close_files()
            self._lease.hand_over(waiting or self.waiting, mid_add=mid_add)
            self._open_files(create=False)

    def _watch(self) -> None:
        """Hand the shard over when another process waits and this one is idle (no call
        under way, no ingest, no build)."""
        while not self._stop.wait(WATCH_S):
            if self._aside or not self._lease.wanted():
                continue
            with self._turn:
                if self._users or self._bulk or self._aside or self._closed or self.indexing:
                    continue
                self._close_files()
                self._lease.release()
                self._aside = True

    # the index's calls, each under `_using` --------------------------------------------

    def upsert(self, points: list[IndexPoint]) -> None:
        with self._using():
            self._room_to_write(len(points))
            super().upsert(points)

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        with self._using():
            super().delete_source(source, keep_hash)

    def delete_version(self, source: str, content_hash: str) -> None:
        with self._using():
            super().delete_version(source, content_hash)

    def search(
        self,
        dense: list[float] | None,
        text: str,
        k: int,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        with self._using(reading=True):
            return super().search(dense, text, k, sources, mode)

    def sources(self) -> dict[tuple[str, str], int]:
        with self._using(reading=True):
            return super().sources()

    def passages(self, source: str, content_hash: str) -> list[tuple[str, dict[str, Any]]]:
        with self._using(reading=True):
            return super().passages(source, content_hash)

    def vectors(self, ids: list[str]) -> dict[str, Stored]:
        with self._using(reading=True):
            return super().vectors(ids)

    def count(self) -> int:
        with self._using(reading=True):
            return super().count()

    def scroll(self, offset: Any = None, limit: int = 256) -> tuple[list[Hit], Any]:
        with self._using(reading=True):
            return super().scroll(offset, limit)

    def flush(self) -> None:
        with self._using():
            super().flush()

    @contextmanager
    def bulk(self, waiting: Callable[[], None] | None = None) -> Iterator[None]:
        self._lease.describe("adding files")
        try:
            with super().bulk(waiting):
                yield
        finally:
            self._lease.describe("reading")

    def close(self) -> None:
        self._stop.set()
        with self._turn:
            if self._aside:
                self._closed = True  # its files were closed when it was handed over
            else:
                super().close()
            self._lease.release()
        if self._watcher is not threading.current_thread():
            self._watcher.join(timeout=5)
