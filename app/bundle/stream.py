"""The byte streams a bundle is made of: files read (only their data ranges, for sparse
ones) and hashed as the archive takes them, the archive itself hashed and counted as it is
written or read, and how a bundle's progress is reported."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.bundle.errors import BundleCancelledError

# Reads, writes and tarfile's own stream buffer: tarfile's default record (10 KB) made it
# copy its buffer once per record, so a 1 GB model was copied a hundred times over.
CHUNK = 1 << 20
# Ranges of zeros at least this long are left out of a sparse file's archived bytes.
HOLE = 64 * 1024
_ZEROS = bytes(HOLE)


@dataclass
class BundleProgress:
    """Where an export or import stands: `stage` is "exporting", "verifying" or
    "placing"; `done` and `total` count bytes; `current` is the file at hand."""

    stage: str
    done: int
    total: int
    current: str = ""

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def describe(self) -> str:
        where = f" {self.current}" if self.current else ""
        return (
            f"{self.stage.capitalize()}{where}: {self.fraction:.0%} of {self.total / 1e6:,.0f} MB"
        )


ProgressCallback = Callable[[BundleProgress], None]


class Ticker:
    """Counts bytes, reports progress at most every 4 MB, and raises when cancelled."""

    def __init__(
        self,
        stage: str,
        total: int,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.state = BundleProgress(stage, 0, total)
        self._progress = progress
        self._cancel = cancel
        self._reported = -1

    def add(self, n: int) -> None:
        self.state.done += n
        if self._cancel is not None and self._cancel.is_set():
            raise BundleCancelledError("export" if self.state.stage == "exporting" else "import")
        if self._progress is not None and self.state.done - self._reported >= 4 * CHUNK:
            self._reported = self.state.done
            self._progress(self.state)

    def at(self, current: str) -> None:
        self.state.current = current
        if self._progress is not None:
            self._progress(self.state)


def data_extents(path: Path) -> tuple[int, list[tuple[int, int]]]:
    """A file's length and the (offset, length) ranges of it that are not zeros, in blocks
    of `HOLE` bytes: holes the file system reports are skipped without reading them."""
    length = path.stat().st_size
    extents: list[tuple[int, int]] = []
    with path.open("rb") as f:
        for start, end in _allocated(f, length):
            f.seek(start)
            at = start
            while at < end:
                block = f.read(min(HOLE, end - at))
                if not block:
                    break
                if block != _ZEROS[: len(block)]:
                    if extents and extents[-1][0] + extents[-1][1] == at:
                        extents[-1] = (extents[-1][0], extents[-1][1] + len(block))
                    else:
                        extents.append((at, len(block)))
                at += len(block)
    return length, extents


def _allocated(f: BinaryIO, length: int) -> list[tuple[int, int]]:
    """The ranges the file system says hold data (the whole file where it cannot say)."""
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        return [(0, length)]
    ranges, at, fd = [], 0, f.fileno()
    while at < length:
        try:
            start = os.lseek(fd, at, seek_data)
        except OSError:  # ENXIO: no data past `at`
            break
        end = os.lseek(fd, start, seek_hole)
        ranges.append((start, end))
        at = end
    return ranges


class RangeReader:
    """A file's ranges read as one stream (for the archive), hashed as they go."""

    def __init__(self, path: Path, extents: list[tuple[int, int]], ticker: Ticker) -> None:
        self._f = path.open("rb")
        self._ranges = list(extents)
        self._left = 0
        self._ticker = ticker
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        while self._left == 0:
            if not self._ranges:
                return b""
            offset, self._left = self._ranges.pop(0)
            self._f.seek(offset)
        want = self._left if n < 0 else min(n, self._left)
        data = self._f.read(want)
        self._left = self._left - len(data) if data else 0
        if not data:
            self._ranges.clear()  # the file shrank: the archive says so (tarfile raises)
        self.sha256.update(data)
        self._ticker.add(len(data))
        return data

    def close(self) -> None:
        self._f.close()


class BackgroundHash:
    """The SHA-256 of a stream, computed on a helper thread: hashlib lets go of the GIL, so
    the archive's own hash runs beside the files' hashes on a second core instead of after
    them. `update` queues bytes (a few MB at most in flight); `hexdigest` waits for it."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="bundle-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._sha.update(data)

    def update(self, data: bytes) -> None:
        self._queue.put(bytes(data))

    def hexdigest(self) -> str:
        self.close()
        return self._sha.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class HashingWriter:
    """The archive's file as it is written: counted and hashed (the bundle's own SHA-256)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.sha256 = BackgroundHash()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._f.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


class HashingReader:
    """The archive's file as it is read: counted (for progress) and hashed. It only goes
    forward: a seek ahead reads (and hashes) what it passes, so tarfile may use it as a
    seekable file (its data is then read straight into the caller's buffer, not through
    tarfile's stream buffer) and the archive's hash still sees every byte once, in order."""

    def __init__(self, f: BinaryIO, ticker: Ticker) -> None:
        self._f = f
        self._ticker = ticker
        self._pos = 0
        self.sha256 = BackgroundHash()

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._pos += len(data)
        self.sha256.update(data)
        self._ticker.add(len(data))
        return data

    def tell(self) -> int:
        return self._pos

    def drain(self) -> None:
        """Read to the end (tar's closing zero blocks), so the hash covers the whole file."""
        while self.read(CHUNK):
            pass

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        target = pos if whence == os.SEEK_SET else self._pos + pos
        if whence not in (os.SEEK_SET, os.SEEK_CUR) or target < self._pos:
            raise OSError("a bundle is read from start to end only")
        while self._pos < target:
            if not self.read(min(CHUNK, target - self._pos)):
                break  # past the end: the next read finds nothing, as a file's would
        return self._pos
