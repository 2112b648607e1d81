"""Free disk space, checked before writing, so a full disk is one clear line.

The document index's engine maps its files into memory, and on a full filesystem a write
to a mapped page cannot fail as a write does: the process gets SIGBUS and ends ("Bus
error", exit 135) with nothing said. Measured with Qdrant Edge 0.9.0 on tmpfs: opening a
shard fills in its current vector chunk (a 32 MB sparse file until then), and a new chunk
or WAL segment is 32 MB more. So before the engine opens or grows a shard, the caller asks
`require` for the holes the engine may fill plus what the next step may add, and stops
with `NoSpaceError` when they are not free.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from app.errors import NoSpaceError

MB = 1_000_000


def free_bytes(folder: Path) -> int:
    """Bytes free for this user on the filesystem holding `folder` (or its nearest
    existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return int(shutil.disk_usage(probe).free)


def holes(folder: Path, pattern: str) -> int:
    """Bytes of the files matching `pattern` under `folder` that are not yet on disk
    (sparse files: what mapping them in may fill)."""
    total = 0
    for path in folder.glob(pattern):
        try:
            st = path.stat()
        except OSError:
            continue
        total += max(st.st_size - st.st_blocks * 512, 0)
    return total


def require(folder: Path, need: int, saved: str = "") -> None:
    """Raise `NoSpaceError` unless `need` bytes are free where `folder` is."""
    free = free_bytes(folder)
    if free < need:
        raise NoSpaceError(folder, need - free, free, saved)


def is_full(exc: BaseException) -> bool:
    """Whether `exc` is a write that failed for want of space (a file, or SQLite)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.OperationalError):
        return "full" in str(exc).lower()
    return "No space left on device" in str(exc)
