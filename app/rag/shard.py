"""A collection's Qdrant Edge shard as `app.rag.index` and `app.rag.hnsw` both see it: the
names of its vectors, the configuration it is created with, and handing its mapped pages
back to the system (why: see `app.rag.index`).

It sits below both so that the index can drive the build and the build can configure the
shard without importing each other.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Any

import qdrant_edge as qe

DENSE = "dense"
SPARSE = "bm25"
SENTENCES = "sentences"


def shard_config(dim: int) -> qe.EdgeConfig:
    """The configuration a new collection's shard is created with."""
    return qe.EdgeConfig(
        vectors={
            DENSE: qe.EdgeVectorParams(
                size=dim, distance=qe.Distance.Cosine, datatype=qe.VectorStorageDatatype.Float16
            ),
        },
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


_MADV_DONTNEED = 4
_libc: Any = None


def release_mapped_pages(folder: Path) -> int:
    """Drop this process's resident pages of the files under `folder` that are mapped
    shared (the shard's segments and WAL); returns the bytes of mappings advised.

    With a shared file mapping MADV_DONTNEED loses nothing: written pages stay in the page
    cache (and are written to the file), and a later access maps them back in. Private
    mappings are left alone. Linux only; elsewhere it does nothing."""
    global _libc
    if not sys.platform.startswith("linux"):
        return 0
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _libc.madvise.restype = ctypes.c_int
    prefix = str(folder.resolve()) + "/"
    advised = 0
    try:
        lines = Path("/proc/self/maps").read_text(errors="replace").splitlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith(prefix) or fields[1][3:4] != "s":
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if _libc.madvise(start, end - start, _MADV_DONTNEED) == 0:
            advised += end - start
    return advised
