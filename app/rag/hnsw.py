"""The HNSW graph of a collection's shard, built in the background by a child process.

Search is exact (brute force) until a collection is large, then by an HNSW graph on the
passage vector, built in the background. tests/bench/bench_rag_hnsw.py (BENCHMARKS.md), two
shared cores, p95 with the query embedding: exact hybrid 32 ms at 50k, 28 at 100k, 42 at
200k; on a graph 17 / 18 ms at 100k / 200k, which took 11 / 27 s to build.

Exact search costs ~0.12 ms more per 1,000 points past 50k and meets the 50 ms budget (the
query embedding is ~12 ms of it) up to ~250k. `HNSW_THRESHOLD` is 50k, well below, as it
also bounds the exact part (points added since a build are searched exactly until they
reach it: never more than ~3-8 ms) and each build's memory: an ingest builds in steps of
it (`EdgeIndex.bulk`), and a build's process grows with the points it indexes, not with
the collection.

`HNSW_EF` is 256: recall@10 against exact of 0.99 at 200k on passages made of real MiniLM
sentence vectors (ef 128: 0.94); random 384-d vectors, a graph's worst case, would need far
more (0.18 at 256). A graph on the sentence vectors made builds 23 times as long.

How it is built: `optimize()` holds the GIL for its whole run (a Python thread got no turn
in 5 s of it), as every shard call does, so on a thread it would freeze the app, GUI
included. A flush past the threshold therefore copies the shard (under the write lock;
searches go on) and a niced child process optimizes the copy; writes made meanwhile (none
in an ingest, which waits for the build) are noted and replayed onto it; then it takes
the shard's place by two renames, and searches pause for the close and the load (0.14 s
at 100k, 0.23 s at 200k). Meanwhile searches with their embedding run 1.5-2.5x slower (p95
72 / 58 ms; one build thread, not two, changed neither). A kill at any point
leaves a shard that loads: the next open deletes a copy left behind, undoes a swap cut
between its renames, and starts the build again; `close()` stops a build. The copy costs
the shard's disk space while the build runs, and the build's process holds the pages of
the copy's new points and of the segment it writes until `optimize()` returns (mapped
page cache): one build of all 775k passages of 500 MB of text took 13 GB; in the ingest's
steps of 50k the largest took 593 MB (BENCHMARKS.md, Memory).

The child is `python -m app.rag.hnsw <args>`; a frozen app (no `-m`) runs itself with
`FROZEN_FLAG` first, and its entry point (`app/__main__.py`) calls `build_main`.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import qdrant_edge as qe

from app.rag import children
from app.rag.shard import DENSE, SPARSE, release_mapped_pages, shard_config

# Points outside an HNSW graph past which one is built in the background (below: exact).
HNSW_THRESHOLD = 50_000
# ef of an HNSW search (the engine uses at least the stage's limit): recall@10 >= 0.95.
HNSW_EF = 256
HNSW_M, HNSW_EF_CONSTRUCT = 16, 100
# Threads of the build (0: one per core) and the niceness of its process.
BUILD_THREADS = 0
BUILD_NICE = 10
# Segments a build may leave before merging: a later build indexes only the new points
# (the default, ~one per core, rebuilt every graph: 24.9 s, not 10.0 s; bench_rag_hnsw_again).
MAX_SEGMENTS = 32
# HNSW full_scan_threshold, KB: recall@10 at ef 256 of a 50k graph of real sentence vectors
# 1.00 at 1 KB, 0.91 at 99, 0.82 at 999, 0.85 at 10 MB (the engine's default).
FULL_SCAN_KB = 1
# How a built shard holds vectors, graph and BM25 index (`build_config`): loading one of 100k
# took 337 MB RSS by default, 199 MB cold; dense p95 warm 3.3 ms (2.6), first 100: 40 (7).
COLD = qe.Memory.Cold
# Points replayed onto a built copy between hand-backs of the mapped pages.
REPLAY_RELEASE = 4096
# The frozen app's first argument when it is started as the build's process.
FROZEN_FLAG = "--carrel-hnsw-build"
# Beside `<collection>/` in the index folder; names start with a dot, collections cannot.
_BUILDING = ".hnsw-build-"
_OLD = ".hnsw-old"
# In the shard folder: how many points the last build put in HNSW segments.
_STATE = "carrel_hnsw.json"

log = logging.getLogger(__name__)


class Owner(Protocol):
    """What a build needs of the index it builds for (an `EdgeIndex`): its folder, vector
    size and threshold, its write lock and read lock (taken in that order), and its shard,
    which the swap replaces."""

    folder: Path
    dim: int
    hnsw_threshold: int | None
    _lock: threading.RLock
    _read_lock: threading.RLock
    _shard: qe.EdgeShard


class Builder:
    """Builds the HNSW graph of an index's shard in the background, one build at a time;
    `build` is the one running (None: search is exact and nothing is being built).

    A child process builds on a copy of the shard taken under the write lock after a flush
    (see the module); writes made meanwhile are noted (ids, delete filters) and replayed
    onto the copy before it replaces the shard (`_swap`). Every method but `wait` is
    called with the index's write lock held."""

    def __init__(self, index: Owner) -> None:
        self._index = index
        self.build: _Build | None = None
        # Points taken to be in HNSW segments: the last build's, less any deleted since.
        self.indexed = _read_state(index.folder)
        # Seconds the last finished build took, by stage, and the points it replayed.
        self.last_build: dict[str, float] = {}
        self._idle = threading.Event()
        self._idle.set()
        self._failed = False
        self._stopped = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no build runs; False if `timeout` seconds passed first."""
        return self._idle.wait(timeout)

    def note_upserted(self, ids: Iterable[str]) -> None:
        """Points written while a build runs: replayed onto its copy."""
        if self.build is not None:
            self.build.upserted.update(ids)

    def note_deleted(self, flt: qe.Filter) -> None:
        """A delete made while a build runs: replayed onto its copy."""
        if self.build is not None:
            self.build.deletes.append(flt)

    def cancel(self) -> threading.Thread | None:
        """Stop a build (its process is killed) and start none again; returns the build's
        thread, for the caller to join once it has let go of the write lock."""
        self._stopped = True
        build = self.build
        if build is None:
            return None
        build.cancelled.set()
        if build.proc is not None and build.proc.poll() is None:
            build.proc.kill()
        return build.thread

    def maybe_start(self) -> None:
        """Start a build if the points outside HNSW segments reached the threshold."""
        index = self._index
        threshold = index.hnsw_threshold
        if threshold is None or self.build is not None or self._stopped or self._failed:
            return
        count = int(index._shard.count(qe.CountRequest(exact=False)))
        # Deleted points may have been in the graph: count them so, to rebuild too early
        # rather than too late.
        self.indexed = min(self.indexed, count)
        if count - self.indexed < threshold:
            return
        index._shard.flush()
        target = _sibling(index.folder, f"{_BUILDING}{os.getpid()}-{next(_builds)}")
        start = time.perf_counter()
        try:
            shutil.copytree(index.folder, target)
        except OSError:
            log.warning("cannot copy %s to build its HNSW index", index.folder, exc_info=True)
            shutil.rmtree(target, ignore_errors=True)
            self._failed = True
            return
        build = self.build = _Build(target, count, self._run)
        build.times["copy_s"] = time.perf_counter() - start
        self._idle.clear()
        build.thread.start()

    def _run(self, build: _Build) -> None:
        """The build's own thread: it starts the child process (so the child's death signal
        is tied to a thread that lives as long as the child), waits, then swaps."""
        index = self._index
        try:
            with index._lock:
                if build.cancelled.is_set():
                    return
                build.proc = subprocess.Popen(
                    build_command(build.folder, index.dim, index.hnsw_threshold or 0),
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
            with index._lock:
                if build.cancelled.is_set():
                    return
                if build.proc.returncode != 0:
                    log.warning(
                        "building the HNSW index of %s failed (exit %s): %s",
                        index.folder,
                        build.proc.returncode,
                        "".join(output).strip(),
                    )
                    self._failed = True
                    return
                self._swap(build)
        except Exception:
            log.warning("building the HNSW index of %s failed", index.folder, exc_info=True)
            self._failed = True
        finally:
            with index._lock:
                shutil.rmtree(build.folder, ignore_errors=True)
                self.build = None
                self._idle.set()

    def _swap(self, build: _Build) -> None:
        """Replay the writes made during the build onto the copy, then put it in the
        shard's place. The write lock held; searches go on until the shard itself is
        replaced (a close, two renames and a load). A crash between the renames leaves
        `.<name>.hnsw-old` alone, which the next open puts back."""
        index = self._index
        start = time.perf_counter()
        ids = sorted(build.upserted)
        replayed = 0
        if ids or build.deletes:
            # Streamed, 256 points at a time (100k held at once were a 1 GB spike here).
            built = qe.EdgeShard.load(str(build.folder))
            release_mapped_pages(build.folder)
            try:
                for flt in build.deletes:
                    built.update(qe.UpdateOperation.delete_points_by_filter(flt))
                for i in range(0, len(ids), 256):
                    chunk: list[Any] = ids[i : i + 256]
                    records = index._shard.retrieve(chunk, with_payload=True, with_vector=True)
                    found = {str(r.id) for r in records}
                    gone = [x for x in chunk if x not in found]
                    if gone:
                        built.update(qe.UpdateOperation.delete_points(gone))
                    if records:
                        built.update(
                            qe.UpdateOperation.upsert_points(
                                [qe.Point(r.id, r.vector or {}, r.payload) for r in records]
                            )
                        )
                    replayed += len(chunk)
                    if replayed % REPLAY_RELEASE < 256:  # or a long replay holds GBs of pages
                        release_mapped_pages(build.folder)
                        release_mapped_pages(index.folder)
                built.flush()
            finally:
                built.close()
            release_mapped_pages(build.folder)
        _write_state(build.folder, build.count)
        old = _sibling(index.folder, _OLD)
        shutil.rmtree(old, ignore_errors=True)
        with index._read_lock:
            paused = time.perf_counter()
            index._shard.close()
            try:
                index.folder.rename(old)
                build.folder.rename(index.folder)
                index._shard = qe.EdgeShard.load(str(index.folder))
            except Exception:
                if not index.folder.exists() or old.exists():
                    if index.folder.exists():
                        index.folder.rename(build.folder)
                    old.rename(index.folder)
                index._shard = qe.EdgeShard.load(str(index.folder))
                raise
            build.times["search_pause_s"] = time.perf_counter() - paused
        shutil.rmtree(old, ignore_errors=True)
        self.indexed = build.count
        release_mapped_pages(index.folder)
        build.times["swap_s"] = time.perf_counter() - start
        build.times["replayed_points"] = replayed
        self.last_build = build.times
        log.info(
            "%s: HNSW index of %d points in place: %s", index.folder.name, build.count, build.times
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


def undo_interrupted_swap(folder: Path) -> None:
    """A swap killed between its two renames left the old shard beside a missing one."""
    old = _sibling(folder, _OLD)
    if old.exists() and not folder.exists():
        old.rename(folder)


def remove_stale_builds(folder: Path) -> None:
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


def build_config(dim: int, threshold: int, threads: int = BUILD_THREADS) -> qe.EdgeConfig:
    """What a shard's copy is optimized with (and the shard keeps from its first build on):
    an HNSW graph on the passage vector for every new segment (`threshold` is when the child
    runs); `FULL_SCAN_KB` the engine's minimum, as its graphs lost recall as it grew; vectors,
    graph and BM25 index `COLD`: mapped and read as searches touch them, not read in whole
    by every load (a swap's, a reopen's) as by default."""
    dense = shard_config(dim).vectors[DENSE]
    return qe.EdgeConfig(
        vectors={
            DENSE: qe.EdgeVectorParams(
                size=dense.size, distance=dense.distance, datatype=dense.datatype, memory=COLD
            )
        },
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=COLD)},
        hnsw_config=qe.HnswIndexConfig(
            m=HNSW_M,
            ef_construct=HNSW_EF_CONSTRUCT,
            full_scan_threshold=FULL_SCAN_KB,
            max_indexing_threads=threads,
            memory=COLD,
        ),
        optimizers=qe.EdgeOptimizersConfig(
            indexing_threshold=FULL_SCAN_KB, default_segment_number=MAX_SEGMENTS
        ),
    )


def build_command(folder: Path, dim: int, threshold: int) -> list[str]:
    """The child process that builds the HNSW index of the shard copy in `folder`: this
    module, or a frozen app (which has no `-m`) given `FROZEN_FLAG` first."""
    args = [str(folder), str(dim), str(threshold), str(BUILD_THREADS), str(os.getpid())]
    return children.command("app.rag.hnsw", FROZEN_FLAG, args)


def build_main(argv: list[str]) -> int:
    """In the child: optimize the copy (one blocking call), then close it cleanly. `argv`:
    the copy's folder, vector size, threshold, threads and the parent's pid."""
    folder, (dim, threshold, threads, parent) = Path(argv[0]), map(int, argv[1:5])
    if not children.tied_to(parent):
        return 3
    if hasattr(os, "nice"):
        os.nice(BUILD_NICE)
    shard = qe.EdgeShard.load(str(folder), build_config(dim, threshold, threads))
    release_mapped_pages(folder)  # the load read in every segment; a build reads only new ones
    try:
        print("optimizing", flush=True)
        shard.optimize()
        shard.flush()
    finally:
        shard.close()
    print("built", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(build_main(sys.argv[1:]))
