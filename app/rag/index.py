"""The `Index` interface and its embedded implementation on Qdrant Edge (`qdrant-edge-py`).

One shard per collection under `<data_dir>/index/<collection>/`: a dense vector ("dense",
cosine: the mean of the passage's sentence vectors), the sentence vectors themselves
("sentences", a MaxSim multivector; see `app.rag.represent`) and a BM25 sparse vector
("bm25", IDF applied by the engine). The dense side is two stages: the top `RESCORE` by the
mean vector, re-ranked by their best sentence; it is fused with BM25 by RRF. A shard made
before sentence vectors existed has no "sentences" and is searched by the mean alone.

Dense vectors are stored as float16 (half the disk and page cache of float32; MiniLM's unit
vectors lose nothing measurable in ranking). The engine maps its segment and WAL files into
the process and keeps every page it touched resident, so a shard's whole size counted in the
process's RSS (2.1 GB of 2.9 GB at 775k points); after each flush the pages of those files
are handed back (`release_mapped_pages`), the data stays in the files and the page cache,
and pages come back on the next access. What stays is the engine's anonymous memory, ~0.9 KB
per point (the appendable segment's in-RAM BM25 inverted index, id tracker and payload
indexes; our Python side peaks at ~70 MB per ingest, per tracemalloc): ~800 MB at 775k.

Search is exact (brute force) until a collection is large, then by an HNSW graph on the
passage vector, built in the background. tests/bench/bench_rag_hnsw.py, two shared cores,
7 sentence vectors per point, BM25 of real text, p95 in ms (one run each, load 2-4):

    points                     10k    25k    50k   100k   200k
    exact dense                0.6    2.6    3.2     14     30
    exact hybrid               1.3    3.1    7.9     20     34
    exact hybrid + embedding    15     18     32     27     40 (45 with real vectors)
    HNSW build, s                5     13     32     75    269 (random vectors)
    HNSW build, s                       3            14     35 (real sentence vectors)
    HNSW hybrid + embedding                       15-17  18-26 (real sentence vectors)

Exact search costs ~0.12 ms more per 1,000 points past 50k and meets the 50 ms budget (the
query embedding is ~12 ms of it) up to ~250k. `HNSW_THRESHOLD` is 100k rather than 250k
because it also bounds the part that stays exact: points added after a build sit in the
appendable segment, searched exactly, until they reach the threshold and the next build
takes them in; so the exact share of a search never costs more than at 100k (~15 ms),
leaving half the budget for the graph's segments and a busy machine. Below the threshold a
search is exact and nothing is built.

`HNSW_EF` is 256: recall@10 against exact of 0.98 at 200k on passages made of real MiniLM
sentence vectors, 1.3 ms (ef 128: 0.93). On random 384-d vectors, a graph's worst case
(no structure), recall is much lower at any ef worth having (0.18 at 256, 0.73 at 2048, at
200k): judge by the real vectors. The sentence multivector gets no graph (m=0): it only
re-ranks candidates, and a graph on it made the build 23 times as long.

How it is built: `optimize()` holds the GIL for its whole run (a Python thread got no turn
in 5 s of it), as every shard call does, so on a thread it would freeze the app, GUI
included. A flush past the threshold therefore copies the shard (under the write lock;
searches go on) and a child process, niced, optimizes the copy; writes made meanwhile are
noted and replayed onto it; then it takes the shard's place by two renames, and searches
pause for the close and the load (0.9 s at 100k, 1.5 s at 200k). Meanwhile searches with
their embedding run 1.3-1.5x slower (p95 43-65 ms at 100k, 60-97 ms at 200k), though the
build is niced; one build thread instead of two changed neither that nor the build time
(real vectors). A kill at any point leaves a shard that loads: the next open deletes a copy
left behind, undoes a swap cut between its renames, and starts the build again; `close()`
stops a build. The copy costs the disk space of the shard while the build runs.
"""

from __future__ import annotations

import collections
import ctypes
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import qdrant_edge as qe

from app.rag.errors import IndexBusyError

Mode = Literal["hybrid", "dense", "bm25"]
DENSE = "dense"
SPARSE = "bm25"
SENTENCES = "sentences"
# Candidates of the mean vector re-ranked by their sentences (100 matched MaxSim over all).
RESCORE = 100
RRF_K = 60
# Weights of the dense and the BM25 ranking in the fusion (tuned on tests/rag/eval).
RRF_WEIGHTS = (1.0, 1.0)
PREFETCH = 50

# HNSW (see the module docstring for the figures): a collection whose points outside an HNSW
# graph reach `HNSW_THRESHOLD` gets one built in the background; below it, search is exact.
HNSW_THRESHOLD = 100_000
# ef of an HNSW search (the engine uses at least the stage's limit): recall@10 >= 0.95.
HNSW_EF = 256
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
# Threads of the build (0: one per core) and the niceness of its process: it takes what the
# app leaves idle.
BUILD_THREADS = 0
BUILD_NICE = 10
# Beside `<collection>/` in the index folder; names start with a dot, collections cannot.
_BUILDING = ".hnsw-build-"
_OLD = ".hnsw-old"
# In the shard folder: how many points the last build put in HNSW segments.
_STATE = "carrel_hnsw.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexPoint:
    """A chunk ready for the index: its vector, its text (for BM25) and its payload;
    `sentences` are its sentence vectors (None: the vector alone stands for them)."""

    id: str
    vector: list[float]
    text: str
    payload: dict[str, Any]
    sentences: list[list[float]] | None = None


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
            ),
            SENTENCES: qe.EdgeVectorParams(
                size=dim,
                distance=qe.Distance.Cosine,
                datatype=qe.VectorStorageDatatype.Float16,
                multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
                # Only ever re-ranks the mean vector's candidates: no graph (m=0) to build.
                hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
            ),
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
        self._build: _Build | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._build_failed = False
        self._last_build: dict[str, float] = {}
        config = shard_config(dim)
        _undo_interrupted_swap(folder)
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
        self.has_sentences = _has_vector(folder, SENTENCES)
        _remove_stale_builds(folder)  # the shard is ours now: no other process builds it
        self._indexed = _read_state(folder)
        with self._lock:
            self._maybe_build()

    @property
    def indexing(self) -> bool:
        """Whether an HNSW graph is being built in the background (search stays exact)."""
        return self._build is not None

    @property
    def hnsw_points(self) -> int:
        """Points taken to be in HNSW segments: the last build's, less any deleted since
        (0: all exact)."""
        return self._indexed

    @property
    def last_build(self) -> dict[str, float]:
        """Seconds the last finished build took: copying the shard, the child's optimize,
        and the swap (searches wait for the copy and the swap)."""
        return dict(self._last_build)

    def wait_indexed(self, timeout: float | None = None) -> bool:
        """Wait until no build runs; False if `timeout` seconds passed first."""
        return self._idle.wait(timeout)

    def upsert(self, points: list[IndexPoint]) -> None:
        if not points:
            return
        batch = []
        for p in points:
            vectors: dict[str, Any] = {DENSE: p.vector, SPARSE: self._bm25.embed_document(p.text)}
            if self.has_sentences:
                vectors[SENTENCES] = p.sentences or [p.vector]
            batch.append(qe.Point(p.id, vectors, {**p.payload, "text": p.text}))
        with self._lock:
            self._shard.update(qe.UpdateOperation.upsert_points(batch))
            if self._build is not None:
                self._build.upserted.update(p.id for p in points)

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Every point of `source`, or all but those of version `keep_hash`."""
        must: list[Any] = [qe.FieldCondition("source", match=qe.MatchValue(source))]
        must_not: list[Any] = []
        if keep_hash is not None:
            must_not.append(qe.FieldCondition("hash", match=qe.MatchValue(keep_hash)))
        self._delete(qe.Filter(must=must, must_not=must_not))

    def delete_version(self, source: str, content_hash: str) -> None:
        """The points of one version of a file (an interrupted add)."""
        must: list[Any] = [
            qe.FieldCondition("source", match=qe.MatchValue(source)),
            qe.FieldCondition("hash", match=qe.MatchValue(content_hash)),
        ]
        self._delete(qe.Filter(must=must))

    def _delete(self, flt: qe.Filter) -> None:
        with self._lock:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(flt))
            if self._build is not None:
                self._build.deletes.append(flt)

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
            stage = self._dense_stage(dense, k, flt)
            request = qe.QueryRequest(
                limit=k,
                query=stage.query,
                prefetches=stage.prefetches,
                filter=stage.filter,
                params=stage.params,
                with_payload=True,
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
                    self._dense_stage(dense, depth, flt),
                    qe.Prefetch(
                        limit=depth, query=qe.Query.Nearest(sparse, using=SPARSE), filter=flt
                    ),
                ],
                query=qe.Fusion.Rrf(  # type: ignore[arg-type]  # the stub omits Rrf
                    k=RRF_K, weights=list(RRF_WEIGHTS)
                ),
                with_payload=True,
            )
        with self._read_lock:
            points = self._shard.query(request)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def _dense_stage(self, dense: list[float], limit: int, flt: qe.Filter | None) -> qe.Prefetch:
        """The dense ranking: the mean vector's top `RESCORE`, re-ranked by best sentence."""
        if not self.has_sentences:
            return qe.Prefetch(
                limit=limit,
                query=qe.Query.Nearest(dense, using=DENSE),
                filter=flt,
                params=self._params,
            )
        first = qe.Prefetch(
            limit=max(RESCORE, limit),
            query=qe.Query.Nearest(dense, using=DENSE),
            filter=flt,
            params=self._params,
        )
        return qe.Prefetch(
            limit=limit, query=qe.Query.Nearest([dense], using=SENTENCES), prefetches=[first]
        )

    def sources(self) -> dict[tuple[str, str], int]:
        """Points per (source, hash), by scrolling the whole shard: for checks, not hot paths."""
        counts: dict[tuple[str, str], int] = {}
        offset: Any = None
        while True:
            with self._read_lock:
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
        with self._read_lock:
            return int(self._shard.count(qe.CountRequest()))

    def flush(self) -> None:
        """Make the writes durable; past the threshold, start building HNSW."""
        with self._lock:
            self._shard.flush()
            release_mapped_pages(self.folder)
            self._maybe_build()

    def close(self) -> None:
        """Close the shard; a build still running is stopped and thrown away (it works on a
        copy, so nothing of the shard is lost; the next open starts it again)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            build = self._build
            if build is not None:
                build.cancelled.set()
                if build.proc is not None and build.proc.poll() is None:
                    build.proc.kill()
        if build is not None:
            build.thread.join()  # quick: its process is gone and it only tidies up
        with self._lock, self._read_lock:
            self._shard.close()

    # HNSW in the background -----------------------------------------------------------
    #
    # optimize() holds the GIL from start to end (and so does every shard call), so on a
    # thread of this process it would stop all Python, the GUI included, for minutes. The
    # graph is built instead by a child process on a copy of the shard, taken under the
    # write lock after a flush; writes made meanwhile are noted (ids, delete filters) and
    # replayed onto the copy before it replaces the shard (see `_swap`).

    def _maybe_build(self) -> None:
        """Start a build if the points outside HNSW segments reached the threshold."""
        if (
            self.hnsw_threshold is None
            or self._build is not None
            or self._closed
            or self._build_failed
            # A frozen app (PyInstaller) has no `-m`: until its entry point can run
            # `_build_main`, it searches exactly.
            or getattr(sys, "frozen", False)
        ):
            return
        count = int(self._shard.count(qe.CountRequest(exact=False)))
        # Deleted points may have been in the graph: count them so, to rebuild too early
        # rather than too late.
        self._indexed = min(self._indexed, count)
        if count - self._indexed < self.hnsw_threshold:
            return
        self._shard.flush()
        target = _sibling(self.folder, f"{_BUILDING}{os.getpid()}-{next(_builds)}")
        start = time.perf_counter()
        try:
            shutil.copytree(self.folder, target)
        except OSError:
            log.warning("cannot copy %s to build its HNSW index", self.folder, exc_info=True)
            shutil.rmtree(target, ignore_errors=True)
            self._build_failed = True
            return
        build = self._build = _Build(target, count, self._run_build)
        build.times["copy_s"] = time.perf_counter() - start
        self._idle.clear()
        build.thread.start()

    def _run_build(self, build: _Build) -> None:
        """The build's own thread: it starts the child process (so the child's death signal
        is tied to a thread that lives as long as the child), waits, then swaps."""
        try:
            with self._lock:
                if build.cancelled.is_set():
                    return
                build.proc = subprocess.Popen(
                    build_command(build.folder, self.dim, self.hnsw_threshold or 0),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            start = time.perf_counter()
            output: collections.deque[str] = collections.deque(maxlen=50)
            assert build.proc.stdout is not None
            with build.proc.stdout:
                for line in build.proc.stdout:
                    if line.strip() == "optimizing":
                        build.optimizing.set()
                    output.append(line)
            build.proc.wait()
            build.times["optimize_s"] = time.perf_counter() - start
            with self._lock:
                if build.cancelled.is_set():
                    return
                if build.proc.returncode != 0:
                    log.warning(
                        "building the HNSW index of %s failed (exit %s): %s",
                        self.folder,
                        build.proc.returncode,
                        "".join(output).strip(),
                    )
                    self._build_failed = True
                    return
                self._swap(build)
        except Exception:
            log.warning("building the HNSW index of %s failed", self.folder, exc_info=True)
            self._build_failed = True
        finally:
            with self._lock:
                shutil.rmtree(build.folder, ignore_errors=True)
                self._build = None
                self._idle.set()

    def _swap(self, build: _Build) -> None:
        """Replay the writes made during the build onto the copy, then put it in the
        shard's place. `_lock` held; searches go on until the shard itself is replaced (a
        close, two renames and a load). A crash between the renames leaves `.<name>.hnsw-old`
        alone, which the next open puts back."""
        start = time.perf_counter()
        ids = sorted(build.upserted)
        points: list[qe.Point] = []
        gone: list[Any] = []
        for i in range(0, len(ids), 256):
            chunk: list[Any] = ids[i : i + 256]
            records = self._shard.retrieve(chunk, with_payload=True, with_vector=True)
            found = {str(r.id) for r in records}
            gone.extend(x for x in chunk if x not in found)
            points.extend(qe.Point(r.id, r.vector or {}, r.payload) for r in records)
        if points or gone or build.deletes:
            built = qe.EdgeShard.load(str(build.folder))
            try:
                for flt in build.deletes:
                    built.update(qe.UpdateOperation.delete_points_by_filter(flt))
                if gone:
                    built.update(qe.UpdateOperation.delete_points(gone))
                for i in range(0, len(points), 256):
                    built.update(qe.UpdateOperation.upsert_points(points[i : i + 256]))
                built.flush()
            finally:
                built.close()
        _write_state(build.folder, build.count)
        old = _sibling(self.folder, _OLD)
        shutil.rmtree(old, ignore_errors=True)
        with self._read_lock:
            paused = time.perf_counter()
            self._shard.close()
            try:
                self.folder.rename(old)
                build.folder.rename(self.folder)
                self._shard = qe.EdgeShard.load(str(self.folder))
            except Exception:
                if not self.folder.exists() or old.exists():
                    if self.folder.exists():
                        self.folder.rename(build.folder)
                    old.rename(self.folder)
                self._shard = qe.EdgeShard.load(str(self.folder))
                raise
            build.times["search_pause_s"] = time.perf_counter() - paused
        shutil.rmtree(old, ignore_errors=True)
        self._indexed = build.count
        release_mapped_pages(self.folder)
        build.times["swap_s"] = time.perf_counter() - start
        build.times["replayed_points"] = len(points) + len(gone)
        self._last_build = build.times
        log.info(
            "%s: HNSW index of %d points in place: %s", self.folder.name, build.count, build.times
        )


_builds = itertools.count(1)


class _Build:
    """One background build: its copy, its process, and the writes made while it runs."""

    def __init__(self, folder: Path, count: int, run: Callable[[_Build], None]) -> None:
        self.folder = folder
        self.count = count
        self.thread = threading.Thread(target=run, args=(self,), name="hnsw-build", daemon=True)
        self.proc: subprocess.Popen[str] | None = None
        self.cancelled = threading.Event()
        self.optimizing = threading.Event()  # the child has loaded the copy and optimizes
        self.upserted: set[str] = set()
        self.deletes: list[qe.Filter] = []
        self.times: dict[str, float] = {}


def _sibling(folder: Path, suffix: str) -> Path:
    return folder.parent / f".{folder.name}{suffix}"


def _undo_interrupted_swap(folder: Path) -> None:
    """A swap killed between its two renames left the old shard beside a missing one."""
    old = _sibling(folder, _OLD)
    if old.exists() and not folder.exists():
        old.rename(folder)


def _remove_stale_builds(folder: Path) -> None:
    """Copies of builds a killed process left, and an old shard a swap did not delete."""
    for stale in folder.parent.glob(f".{folder.name}{_BUILDING}*"):
        shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(_sibling(folder, _OLD), ignore_errors=True)


def _read_state(folder: Path) -> int:
    try:
        return int(json.loads((folder / _STATE).read_text(encoding="utf-8"))["indexed"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _write_state(folder: Path, indexed: int) -> None:
    tmp = folder / f"{_STATE}.tmp"
    tmp.write_text(json.dumps({"indexed": indexed}), encoding="utf-8")
    tmp.replace(folder / _STATE)


def build_config(
    folder: Path, dim: int, threshold: int, threads: int = BUILD_THREADS
) -> qe.EdgeConfig:
    """What a shard's copy is optimized with: an HNSW graph on the passage vector only (the
    sentence vectors only re-rank candidates; a graph on them took 23x as long to build),
    built for every segment; a filtered search that leaves fewer points than a quarter of
    the threshold scans them instead (the engine's own default caps it at 10 MB)."""
    base = shard_config(dim)
    vectors = {DENSE: base.vectors[DENSE]}
    if _has_vector(folder, SENTENCES):
        vectors[SENTENCES] = qe.EdgeVectorParams(
            size=dim,
            distance=qe.Distance.Cosine,
            datatype=qe.VectorStorageDatatype.Float16,
            multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
            hnsw_config=qe.HnswIndexConfig(
                m=0, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=1
            ),
        )
    full_scan_kb = max(1, min(10_000, threshold // 4 * dim * 4 // 1024))
    return qe.EdgeConfig(
        vectors=vectors,
        sparse_vectors=base.sparse_vectors,
        hnsw_config=qe.HnswIndexConfig(
            m=HNSW_M,
            ef_construct=HNSW_EF_CONSTRUCT,
            full_scan_threshold=full_scan_kb,
            max_indexing_threads=threads,
        ),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=full_scan_kb),
    )


def build_command(folder: Path, dim: int, threshold: int) -> list[str]:
    """The child process that builds the HNSW index of the shard copy in `folder`."""
    args = [str(folder), str(dim), str(threshold), str(BUILD_THREADS), str(os.getpid())]
    return [sys.executable, "-m", "app.rag.index", *args]


def _build_main(argv: list[str]) -> int:
    """In the child: optimize the copy (one blocking call), then close it cleanly."""
    folder, (dim, threshold, threads, parent) = Path(argv[0]), map(int, argv[1:5])
    if sys.platform.startswith("linux"):
        # Die with the thread that started us, so a killed app leaves no build running.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        return 3
    if hasattr(os, "nice"):
        os.nice(BUILD_NICE)
    shard = qe.EdgeShard.load(str(folder), build_config(folder, dim, threshold, threads))
    try:
        print("optimizing", flush=True)
        shard.optimize()
        shard.flush()
    finally:
        shard.close()
    print("built", flush=True)
    return 0


def _has_vector(folder: Path, name: str) -> bool:
    """Whether the shard in `folder` was created with the dense vector `name`."""
    try:
        config = json.loads((folder / "edge_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return name in (config.get("vectors") or {})


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


if __name__ == "__main__":
    raise SystemExit(_build_main(sys.argv[1:]))
