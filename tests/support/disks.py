"""Small filesystems for the full-disk tests: a tmpfs of a given size mounted for a test
(root only: the test skips, saying why, where it cannot mount), and a filler file that
leaves a chosen number of bytes free."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(size_mb: int) -> Iterator[Path]:
    """A fresh tmpfs of `size_mb` MB, unmounted afterwards."""
    where = Path(tempfile.mkdtemp(prefix=f"carrel-tmpfs{size_mb}-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def fill(folder: Path, leave: int) -> Path:
    """A file under `folder` taking all but `leave` bytes of its filesystem."""
    filler = folder / "filler.bin"
    have = filler.stat().st_size if filler.exists() else 0
    size = max(shutil.disk_usage(folder).free + have - leave, 0)
    with filler.open("ab") as f:
        f.truncate(0)
        if size:
            os.posix_fallocate(f.fileno(), 0, size)
    return filler
