"""Locks between Carrel processes on one machine: two windows, or a window and a shell.

`FileLock` is an exclusive lock on a small file, held through an open descriptor
(`flock` on Linux and macOS, `msvcrt.locking` on Windows), so the system drops it when
the process ends, however it ends: a killed Carrel leaves no stale lock. Waiting polls
(`acquire`), so a caller can show progress and give up; the holder writes who it is into
the file (`holder()`), for the line a waiting process shows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

POLL_S = 0.05
# On Windows a locked region cannot be read: lock one byte far past what is written.
_WIN_OFFSET = 1 << 30


class FileLock:
    """An exclusive lock on `path` (created if missing). Not re-entrant; one per holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, holder: Mapping[str, str] | None = None) -> bool:
        """Take the lock if it is free; `holder` (what it is for) is written, with the
        process id, for the others (None: what the last holder wrote stays)."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        if holder is not None:
            self.describe(holder)
        return True

    def acquire(
        self,
        timeout: float | None = None,
        waiting: Callable[[float], None] | None = None,
        holder: Mapping[str, str] | None = None,
    ) -> bool:
        """Wait for the lock; `waiting(seconds)` is called at once and about once a second
        meanwhile. False when `timeout` seconds passed first."""
        started = time.monotonic()
        told = -1.0  # the first wait is told at once
        while not self.try_acquire(holder):
            elapsed = time.monotonic() - started
            if timeout is not None and elapsed >= timeout:
                return False
            if waiting is not None and elapsed - told >= 1.0:
                told = elapsed
                waiting(elapsed)
            time.sleep(POLL_S)
        return True

    def describe(self, holder: Mapping[str, str]) -> None:
        """Say who holds the lock and what it does (read by `holder()` elsewhere)."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), **holder}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def holder(self) -> dict[str, Any]:
        """What the process holding the lock wrote about itself ({} if nothing)."""
        try:
            value = json.loads(self.path.read_bytes() or b"{}")
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


if sys.platform == "win32":  # pragma: no cover - not run on this machine
    import msvcrt

    def _lock(fd: int) -> bool:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
