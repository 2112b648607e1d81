"""The `Index` interface and its embedded implementation on Qdrant Edge (`qdrant-edge-py`).

One shard per collection under `<data_dir>/index/<collection>/`: a dense vector ("dense",
cosine: the mean of the passage's sentence vectors) and a BM25 sparse vector ("bm25", IDF
applied by the engine); the sentence vectors are kept beside it (`SentenceStore`, int8; see
`app.rag.sentences` and `app.rag.represent` for why neither in the engine nor its payload).
The dense ranking is two stages: the top `RESCORE` by the mean vector, re-ranked by their
best sentence (MaxSim, in numpy); it is fused with the BM25 ranking by a convex combination
of their scaled scores (`represent.fuse`, `FUSION_WEIGHTS`). A point without sentence
vectors keeps its mean vector's score; older shards' payload vectors (`SV`) are read.

Dense vectors are stored as float16 (half the disk and page cache of float32; MiniLM's unit
vectors lose nothing measurable in ranking). The engine maps its segment and WAL files into
the process and keeps every page it touched resident, so a shard's whole size counted in the
process's RSS (2.1 GB of 2.9 GB at 775k points); after each flush the pages of those files
are handed back (`release_mapped_pages`), the data stays in the files and the page cache,
and pages come back on the next access. What stays is the engine's anonymous memory: ~0.9
KB a point in the appendable segment (in-RAM BM25 index, id tracker, payload indexes), which
holds only the points since the last HNSW build, less in built (cold) segments; the whole
ingest process peaked at 437 MB anonymous at 775k points (our Python side: ~70 MB).

Search is exact until a collection is large, then by an HNSW graph on the passage vector,
built in the background by a child process: `app.rag.hnsw`, with the figures and reasons.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from app.rag.edge_reads import SV, StoredPoints, match, shown
from app.rag.errors import CollectionGoneError, IndexBusyError
from app.rag.hnsw import (
    HNSW_EF,
    HNSW_THRESHOLD,
    Builder,
    remove_stale_builds,
    undo_interrupted_swap,
)
from app.rag.points import Hit, Index, IndexPoint, Mode, bm25, bm25_text, point_id
from app.rag.represent import best_sentence, fuse, pack
from app.rag.sentences import SentenceStore, store_path
from app.rag.shard import DENSE, SENTENCES, SPARSE, release_mapped_pages, shard_config

# The shard's vector names and helpers live in `app.rag.shard` (below the HNSW build, which
# needs them too), what any index stores and answers in `app.rag.points`; they are part of
# this module's interface.
__all__ = [
    "DENSE",
    "FUSION_WEIGHTS",
    "PREFETCH",
    "RESCORE",
    "SENTENCES",
    "SPARSE",
    "SV",
    "EdgeIndex",
    "Hit",
    "Index",
    "IndexPoint",
    "Mode",
    "bm25",
    "point_id",
    "release_mapped_pages",
    "shard_config",
]

# Candidates of the mean vector re-ranked by their sentences (100 matched MaxSim over all).
RESCORE = 100
# Weights of the dense and the BM25 scores in the fusion. Chosen on the development set
# (tests/rag/dev: other manuals, other questions) among RRF and convex combinations named
# beforehand; the evaluation set (tests/rag/eval) only measures it. See BENCHMARKS.md.
FUSION_WEIGHTS = (0.6, 0.4)
PREFETCH = 50


class EdgeIndex(StoredPoints):
    """A collection's shard in Qdrant Edge, in this process. A second process opening the
    same shard is refused by the engine (its WAL is locked), and its attempt damages the
    first's files: the app opens shards through `app.rag.shared_index`, which never lets
    two processes try."""

    def __init__(
        self,
        folder: Path,
        dim: int,
        collection: str = "",
        *,
        hnsw_threshold: int | None = HNSW_THRESHOLD,
        hnsw_ef: int = HNSW_EF,
    ) -> None:
        """`hnsw_threshold`: points outside HNSW segments past which a flush starts a
        background build (None: always exact)."""
        self.folder = folder
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self._bm25 = bm25()
        self._params = qe.SearchParams(hnsw_ef=hnsw_ef)
        # Writes (and the copy a build starts from) hold `_lock`; reads hold `_read_lock`;
        # replacing the shard with its built copy holds both, in that order.
        self._lock = threading.RLock()
        self._read_lock = threading.RLock()
        self._closed = False
        self._bulk = 0  # writers inside `bulk()`: their flushes wait for a build
        self._waiting: Callable[[], None] = lambda: None  # a `bulk` writer's, told of a wait
        self.collection = collection or folder.name
        self._open_files(create=True)

    def _open_files(self, create: bool) -> None:
        """Open the shard (creating it if `create` and it is not there), its sentence store
        and its build: the files are this process's from here until `_close_files`."""
        folder = self.folder
        undo_interrupted_swap(folder)
        try:
            if (folder / "edge_config.json").exists() or any(folder.glob("*")):
                self._shard = qe.EdgeShard.load(str(folder))
            elif not create:
                raise CollectionGoneError(self.collection)
            else:
                folder.mkdir(parents=True, exist_ok=True)
                self._shard = qe.EdgeShard.create(str(folder), shard_config(self.dim))
                for key in ("source", "hash"):
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword)
                    )
        except Exception as exc:
            if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
                raise IndexBusyError(self.collection) from exc
            raise
        release_mapped_pages(folder)  # loading reads every segment file in
        try:
            self.sentences = SentenceStore(store_path(folder))  # the passages' sentence vectors
        except BaseException:
            self._shard.close()
            raise
        remove_stale_builds(folder)  # the shard is ours now: no other process builds it
        self._builder = Builder(self)
        with self._lock:
            self._builder.maybe_start()

    @property
    def indexing(self) -> bool:
        """Whether an HNSW graph is being built in the background (search stays exact)."""
        return self._builder.build is not None

    @property
    def hnsw_points(self) -> int:
        """Points taken to be in HNSW segments: the last build's, less any deleted since
        (0: all exact)."""
        return self._builder.indexed

    @property
    def last_build(self) -> dict[str, float]:
        """Seconds the last finished build took: copying the shard, the child's optimize,
        and the swap (searches wait for the copy and the swap)."""
        return dict(self._builder.last_build)

    def wait_indexed(self, timeout: float | None = None) -> bool:
        """Wait until no build runs; False if `timeout` seconds passed first."""
        return self._builder.wait(timeout)

    def upsert(self, points: list[IndexPoint]) -> None:
        if not points:
            return
        batch, rows = [], []
        for p in points:
            sparse = self._bm25.embed_document(bm25_text(p.text, p.payload))
            vectors: dict[str, Any] = {DENSE: p.vector, SPARSE: sparse}
            batch.append(qe.Point(p.id, vectors, {**p.payload, "text": p.text}))
            if p.sentences:
                source, version = str(p.payload.get("source", "")), str(p.payload.get("hash", ""))
                rows.append((p.id, source, version, pack(p.sentences)))
        with self._lock:
            self.sentences.put(rows)
            self._shard.update(qe.UpdateOperation.upsert_points(batch))
            self._builder.note_upserted(p.id for p in points)

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Every point of `source`, or all but those of version `keep_hash`."""
        must_not = [match("hash", keep_hash)] if keep_hash is not None else []
        with self._lock:
            self.sentences.delete(source, keep_hash=keep_hash)
            self._delete(qe.Filter(must=[match("source", source)], must_not=must_not))

    def delete_version(self, source: str, content_hash: str) -> None:
        """The points of one version of a file (an interrupted add)."""
        must = [match("source", source), match("hash", content_hash)]
        with self._lock:
            self.sentences.delete_version(source, content_hash)
            self._delete(qe.Filter(must=must))

    def _delete(self, flt: qe.Filter) -> None:  # with the write lock held
        self._shard.update(qe.UpdateOperation.delete_points_by_filter(flt))
        self._builder.note_deleted(flt)

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
        with self._read_lock:
            if mode == "bm25":
                ranked = self._query(sparse, SPARSE, k, flt)
            elif mode == "dense" or not sparse.indices:
                assert dense is not None
                ranked = self._dense_ranked(dense, k, flt)
            else:
                assert dense is not None
                depth = max(PREFETCH, 3 * k)
                semantic = self._dense_ranked(dense, depth, flt)
                keyword = self._query(sparse, SPARSE, depth, flt)
                ranked = fuse([semantic, keyword], FUSION_WEIGHTS)[:k]
            # Payloads for the few shown: the stages read ids (and sentence vectors) only.
            records = self._shard.retrieve(
                [key for key, _ in ranked], with_payload=True, with_vector=False
            )
        payloads = {str(r.id): dict(r.payload or {}) for r in records}
        return [Hit(key, score, shown(payloads[key])) for key, score in ranked if key in payloads]

    def _dense_ranked(
        self, dense: list[float], limit: int, flt: qe.Filter | None
    ) -> list[tuple[str, float]]:
        """The mean vector's top `RESCORE`, re-ranked by each passage's best sentence."""
        rescored = [(key, best) for key, _, best in self._dense_scores(dense, limit, flt)]
        rescored.sort(key=lambda item: -item[1])
        return rescored[:limit]

    def _dense_scores(
        self, dense: list[float], limit: int, flt: qe.Filter | None
    ) -> list[tuple[str, float, float]]:
        """(id, the mean vector's cosine, the best sentence's) of the mean vector's top
        `RESCORE` (or `limit`, if more); a point without sentence vectors has its mean
        vector's cosine for both."""
        query = np.asarray(dense, dtype=np.float32)
        points = self._shard.query(
            qe.QueryRequest(
                limit=max(RESCORE, limit),
                query=qe.Query.Nearest(dense, using=DENSE),
                filter=flt,
                params=self._params,
                with_payload=[SV],
            )
        )
        stored = self.sentences.get([str(p.id) for p in points])
        scores = []
        for p in points:
            packed = stored.get(str(p.id)) or (p.payload or {}).get(SV)
            whole = float(p.score)
            scores.append((str(p.id), whole, best_sentence(query, packed) if packed else whole))
        return scores

    def _query(
        self, query: Any, using: str, limit: int, flt: qe.Filter | None
    ) -> list[tuple[str, float]]:
        """(id, score) of the engine's top `limit` by one vector."""
        points = self._shard.query(
            qe.QueryRequest(
                limit=limit,
                query=qe.Query.Nearest(query, using=using),
                filter=flt,
                params=self._params,
                with_payload=False,
            )
        )
        return [(str(p.id), float(p.score)) for p in points]

    def count(self) -> int:
        with self._read_lock:
            return int(self._shard.count(qe.CountRequest()))

    def flush(self) -> None:
        """Make the writes durable; past the threshold, start building HNSW: in the
        background, or inside `bulk` waiting for the build to end."""
        with self._lock:
            self.sentences.commit()  # first: a point the shard has durably has its row
            self._shard.flush()
            release_mapped_pages(self.folder)
            self._builder.maybe_start()
            started = self._bulk > 0 and self._builder.build is not None
        if started:  # outside the lock: the build's swap takes it
            self._waiting()
            self._builder.wait()

    @contextmanager
    def bulk(self, waiting: Callable[[], None] | None = None) -> Iterator[None]:
        """A run of writes (an ingest): a flush that starts an HNSW build waits for it, so
        a long ingest builds in steps of the threshold, each indexing only the points
        since the last (`MAX_SEGMENTS`), with nothing written meanwhile to replay. Builds
        that ran beside the ingest (500 MB of text: 7.9 GB) or one after it (13 GB in its
        process) took far more memory. `waiting` is called as such a wait begins."""
        with self._lock:
            self._bulk += 1
            before, self._waiting = self._waiting, waiting or self._waiting
        try:
            yield
        finally:
            with self._lock:
                self._bulk -= 1
                self._waiting = before
                if not self._bulk and not self._closed:
                    self._builder.maybe_start()

    def offer_turn(
        self, waiting: Callable[[str], None] | None = None, *, mid_add: bool = False
    ) -> None:
        """No write is half done: a shard shared between processes may change hands now
        (`app.rag.shared_index`); this one is this process's alone."""

    @contextmanager
    def held(self) -> Iterator[None]:
        """Writes made durable, then held off (and a build's swap with them) for the block:
        meanwhile the shard folder and the sentence store's files are a consistent copy."""
        with self._lock:
            self.sentences.commit()
            self._shard.flush()
            yield

    def close(self) -> None:
        """Close the shard; a build still running is stopped and thrown away (it works on a
        copy, so nothing of the shard is lost; the next open starts it again)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._close_files()

    def _close_files(self) -> None:
        with self._lock:
            build = self._builder.cancel()
        if build is not None:
            build.join()  # quick: its process is gone and it only tidies up
        with self._lock, self._read_lock:
            self._shard.close()
            self.sentences.close()
