"""Carrel's cache of embedder networks kept to what is used: a network no start has
loaded for `UNUSED_DAYS` (made by an earlier Carrel, onnxruntime or OpenVINO, or for a
runtime this processor no longer takes) is removed at a later load. Each load marks what
it uses (`mark_used`: the file's or folder's time); `remove_unused` removes the rest once
it is that old. Names the networks are kept under (`minilm-<key>` and its suffixes) group a
network's files and folder; nothing else in a folder is touched (a temporary folder being
written by another Carrel, the model's digest). A file another process holds or cannot give
up stays until a later load, said in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Collection
from pathlib import Path

log = logging.getLogger(__name__)

UNUSED_DAYS = 30
PREFIX = "minilm-"


def mark_used(path: Path) -> bool:
    """Stamp `path` as loaded now; False where it cannot be (a read-only cache)."""
    try:
        os.utime(path)
    except OSError as exc:
        log.info("%s not marked as used: %s", path, exc)
        return False
    return True


def remove_unused(folder: Path, keep: Collection[str], loose: str = "") -> None:
    """Remove from `folder` each network (the entries named `minilm-<key>` plus suffixes)
    other than those named in `keep` whose newest entry is older than `UNUSED_DAYS`, and
    every file ending in `loose` (an earlier layout's, which nothing reads), at once."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    groups: dict[str, list[Path]] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for path in entries:
        if loose and path.name.endswith(loose) and path.is_file():
            groups.setdefault(path.name, []).append(path)
        elif path.name.startswith(PREFIX) and path.name.split(".")[0] not in keep:
            groups.setdefault(path.name.split(".")[0], []).append(path)
    for name, paths in groups.items():
        old = bool(loose) and name.endswith(loose)
        try:
            if not old and max(p.stat().st_mtime for p in paths) > cutoff:
                continue
            for path in paths:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        except OSError as exc:
            log.info("%s left in the cache: %s", name, exc)
            continue
        log.info(
            "removed %s from the cache in %s: %s",
            name,
            folder,
            "an earlier layout's" if old else f"not loaded for {UNUSED_DAYS} days",
        )
