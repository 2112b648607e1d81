"""The `Index` interface and its embedded implementation on Qdrant Edge (`qdrant-edge-py`).

One shard per collection under `<data_dir>/index/<collection>/`: a dense vector ("dense",
cosine) and a BM25 sparse vector ("bm25", IDF applied by the engine), fused with RRF.

Dense vectors are stored as float16 (half the disk and page cache of float32; MiniLM's unit
vectors lose nothing measurable in ranking). The engine maps its segment and WAL files into
the process and keeps every page it touched resident, so a shard's whole size counted in the
process's RSS (2.1 GB of 2.9 GB at 775k points); after each flush the pages of those files
are handed back (`release_mapped_pages`), the data stays in the files and the page cache,
and pages come back on the next access. What stays is the engine's anonymous memory, ~0.9 KB
per point (the appendable segment's in-RAM BM25 inverted index, id tracker and payload
indexes; our Python side peaks at ~70 MB per ingest, per tracemalloc): ~800 MB at 775k.

Search stays exact (no HNSW). Measured here: exact hybrid search at 100k×384 is ~20–30 ms
p95, within the 50 ms budget, while `optimize()` builds HNSW in 5 s at 10k points but 267 s
at 100k on two cores. TODO: past ~200k points, build HNSW with `optimize()` on a background
thread (and raise `hnsw_ef` for recall); below that, exact search is both faster to build
and exact.
"""

from __future__ import annotations

import ctypes
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import qdrant_edge as qe

from app.rag.errors import IndexBusyError

Mode = Literal["hybrid", "dense", "bm25"]
DENSE = "dense"
SPARSE = "bm25"
RRF_K = 60
# Weights of the dense and the BM25 ranking in the fusion (tuned on tests/rag/eval).
RRF_WEIGHTS = (1.0, 1.0)
PREFETCH = 50


@dataclass(frozen=True)
class IndexPoint:
    """A chunk ready for the index: its vector, its text (for BM25) and its payload."""

    id: str
    vector: list[float]
    text: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Hit:
    """A search result: the point's payload and its fused (or single-mode) score."""

    id: str
    score: float
    payload: dict[str, Any]


def shard_config(dim: int) -> qe.EdgeConfig:
    """The configuration a new collection's shard is created with."""
    return qe.EdgeConfig(
        vectors={
            DENSE: qe.EdgeVectorParams(
                size=dim, distance=qe.Distance.Cosine, datatype=qe.VectorStorageDatatype.Float16
            )
        },
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


def point_id(source: str, content_hash: str, n: int) -> str:
    """A stable id per (file, version, chunk): re-running an interrupted file overwrites."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}\0{content_hash}\0{n}"))


class Index(Protocol):
    """A collection's searchable store of chunks; the embedded and server versions agree."""

    def upsert(self, points: list[IndexPoint]) -> None: ...

    def delete_source(self, source: str, keep_hash: str | None = None) -> None: ...

    def delete_version(self, source: str, content_hash: str) -> None: ...

    def search(
        self,
        dense: list[float] | None,
        text: str,
        k: int,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]: ...

    def sources(self) -> dict[tuple[str, str], int]: ...

    def count(self) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def bm25() -> qe.Bm25:
    """The keyword (sparse) encoder both indexes use, so their vectors never drift apart."""
    return qe.Bm25(qe.Bm25Config(language="english"))


class EdgeIndex:
    """A collection's shard in Qdrant Edge, in this process. A second process opening the
    same shard is refused by the engine (its WAL is locked): that becomes `IndexBusyError`."""

    def __init__(self, folder: Path, dim: int, collection: str = "") -> None:
        self.folder = folder
        self._bm25 = bm25()
        config = shard_config(dim)
        try:
            if (folder / "edge_config.json").exists() or any(folder.glob("*")):
                self._shard = qe.EdgeShard.load(str(folder))
            else:
                folder.mkdir(parents=True, exist_ok=True)
                self._shard = qe.EdgeShard.create(str(folder), config)
                for key in ("source", "hash"):
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword)
                    )
        except Exception as exc:
            if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
                raise IndexBusyError(collection or folder.name) from exc
            raise
        release_mapped_pages(folder)  # loading reads every segment file in

    def upsert(self, points: list[IndexPoint]) -> None:
        if not points:
            return
        batch = [
            qe.Point(
                p.id,
                {DENSE: p.vector, SPARSE: self._bm25.embed_document(p.text)},
                {**p.payload, "text": p.text},
            )
            for p in points
        ]
        self._shard.update(qe.UpdateOperation.upsert_points(batch))

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Every point of `source`, or all but those of version `keep_hash`."""
        must: list[Any] = [qe.FieldCondition("source", match=qe.MatchValue(source))]
        must_not: list[Any] = []
        if keep_hash is not None:
            must_not.append(qe.FieldCondition("hash", match=qe.MatchValue(keep_hash)))
        self._shard.update(
            qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=must, must_not=must_not))
        )

    def delete_version(self, source: str, content_hash: str) -> None:
        """The points of one version of a file (an interrupted add)."""
        must: list[Any] = [
            qe.FieldCondition("source", match=qe.MatchValue(source)),
            qe.FieldCondition("hash", match=qe.MatchValue(content_hash)),
        ]
        self._shard.update(qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=must)))

    def search(
        self,
        dense: list[float] | None,
        text: str,
        k: int,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        flt = (
            qe.Filter(must=[qe.FieldCondition("source", match=qe.MatchAny(list(sources)))])
            if sources
            else None
        )
        sparse = self._bm25.embed_query(text)
        if mode == "dense" or (mode == "hybrid" and not sparse.indices):
            assert dense is not None
            request = qe.QueryRequest(
                limit=k, query=qe.Query.Nearest(dense, using=DENSE), filter=flt, with_payload=True
            )
        elif mode == "bm25":
            request = qe.QueryRequest(
                limit=k, query=qe.Query.Nearest(sparse, using=SPARSE), filter=flt, with_payload=True
            )
        else:
            assert dense is not None
            depth = max(PREFETCH, 3 * k)
            request = qe.QueryRequest(
                limit=k,
                prefetches=[
                    qe.Prefetch(
                        limit=depth, query=qe.Query.Nearest(dense, using=DENSE), filter=flt
                    ),
                    qe.Prefetch(
                        limit=depth, query=qe.Query.Nearest(sparse, using=SPARSE), filter=flt
                    ),
                ],
                query=qe.Fusion.Rrf(  # type: ignore[arg-type]  # the stub omits Rrf
                    k=RRF_K, weights=list(RRF_WEIGHTS)
                ),
                with_payload=True,
            )
        points = self._shard.query(request)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def sources(self) -> dict[tuple[str, str], int]:
        """Points per (source, hash), by scrolling the whole shard: for checks, not hot paths."""
        counts: dict[tuple[str, str], int] = {}
        offset: Any = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1000, with_payload=["source", "hash"])
            )
            for r in records:
                payload = r.payload or {}
                key = (str(payload.get("source")), str(payload.get("hash")))
                counts[key] = counts.get(key, 0) + 1
            if offset is None:
                return counts

    def count(self) -> int:
        return int(self._shard.count(qe.CountRequest()))

    def flush(self) -> None:
        self._shard.flush()
        release_mapped_pages(self.folder)

    def close(self) -> None:
        self._shard.close()


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
