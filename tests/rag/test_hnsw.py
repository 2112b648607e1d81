"""The HNSW index built in the background past a threshold (a small one here): searches stay
right before, during and after the build; close and a kill during a build lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import app.rag.hnsw as hnsw_module
from app.rag.index import EdgeIndex, IndexPoint, Mode, point_id

DIM = 64
THRESHOLD = 2000
TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parents[2]

# The build's process waits for this file to exist before it starts: the test decides when
# a build may finish, so "during the build" is certain, not a race.
_GATED = """
import sys, time, pathlib
from app.rag.hnsw import build_main
gate, deadline = pathlib.Path(sys.argv[1]), time.monotonic() + 60
while not gate.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
raise SystemExit(build_main(sys.argv[2:]))
"""


def vectors(n: int, seed: int = 1) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def points(rows: np.ndarray, start: int = 0, source: str = "s") -> list[IndexPoint]:
    return [
        IndexPoint(
            point_id(f"{source}{(start + i) % 10}", "h", start + i),
            row.tolist(),
            f"passage token{start + i} about herons",
            {"source": f"{source}{(start + i) % 10}", "hash": "h"},
        )
        for i, row in enumerate(rows)
    ]


def top(index: EdgeIndex, row: np.ndarray, text: str = "", mode: Mode = "dense") -> str:
    hits = index.search(row.tolist(), text, 3, mode=mode)
    return hits[0].id


def hnsw_segments(folder: Path) -> int:
    """Segments whose passage vector has an HNSW graph (per the engine's segment.json)."""
    n = 0
    for meta in (folder / "segments").glob("*/segment.json"):
        config = json.loads(meta.read_text())["config"]["vector_data"]["dense"]
        n += config["index"]["type"] == "hnsw"
    return n


def graph_segments(folder: Path) -> set[str]:
    """Names of the segments whose passage vector has an HNSW graph."""
    return {
        meta.parent.name
        for meta in (folder / "segments").glob("*/segment.json")
        if json.loads(meta.read_text())["config"]["vector_data"]["dense"]["index"]["type"] == "hnsw"
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.glob(f".{folder.name}.hnsw*"))


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "go"

    def gated(folder: Path, dim: int, threshold: int) -> list[str]:
        args = [str(folder), str(dim), str(threshold), "0", str(os.getpid())]
        return [sys.executable, "-c", _GATED, str(path), *args]

    monkeypatch.setattr(hnsw_module, "build_command", gated)
    yield path
    path.touch()  # a build left waiting ends


def test_small_collection_stays_exact(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    index.upsert(points(vectors(THRESHOLD - 1)))
    index.flush()
    assert not index.indexing
    assert index.hnsw_points == 0
    index.close()
    assert hnsw_segments(folder) == 0


def test_bulk_writes_build_in_steps(tmp_path: Path) -> None:
    """Inside `bulk` (what an ingest holds), a flush past the threshold returns once the
    build is in place: nothing was written meanwhile to replay, and the next build takes
    only the points added since."""
    folder = tmp_path / "kb"
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    try:
        waits: list[bool] = []  # told, as each wait begins, whether a build runs
        with index.bulk(lambda: waits.append(index.indexing)):
            with index.bulk():  # nested: the same, the outer writer still told
                index.upsert(points(vectors(THRESHOLD + 10)))
                index.flush()
            assert not index.indexing
            assert waits == [True]
            assert index.hnsw_points == THRESHOLD + 10
            assert index.last_build["replayed_points"] == 0
            first = graph_segments(folder)
            index.upsert(points(vectors(THRESHOLD, seed=2), start=THRESHOLD + 10))
            index.flush()
            assert index.hnsw_points == 2 * THRESHOLD + 10
            assert first < graph_segments(folder)  # the first graph kept, a second beside it
            index.upsert(points(vectors(10, seed=3), start=2 * THRESHOLD + 10))
            index.flush()  # below the threshold: stays exact
            assert not index.indexing
            assert waits == [True, True]
        assert not index.indexing
        assert index.hnsw_points == 2 * THRESHOLD + 10
        assert index.count() == 2 * THRESHOLD + 20
    finally:
        index.close()


def test_build_in_background_then_search_by_hnsw(tmp_path: Path, gate: Path) -> None:
    folder = tmp_path / "kb"
    rows = vectors(3000)
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    index.upsert(points(rows[:1500]))
    index.flush()
    assert not index.indexing  # 1,500 points: below the threshold
    index.upsert(points(rows[1500:], 1500))
    index.flush()
    assert index.indexing

    # During the build: search is exact and right, writes go on.
    assert top(index, rows[42]) == points(rows[42:43], 42)[0].id
    assert top(index, rows[7], "token7", mode="hybrid") == points(rows[7:8], 7)[0].id
    extra = vectors(300, seed=2)
    index.upsert(points(extra, 3000))
    moved = vectors(1, seed=3)[0]
    index.upsert(
        [
            IndexPoint(
                points(rows[5:6], 5)[0].id, moved.tolist(), "moved", {"source": "s5", "hash": "h"}
            )
        ]
    )
    index.delete_source("s3")
    index.upsert(points(vectors(20, seed=4), 5000, source="gone"))
    index.delete_version("gone1", "h")
    index.flush()
    assert index.indexing  # one build at a time: no second one started

    gate.touch()
    assert index.wait_indexed(TIMEOUT)
    assert not index.indexing
    assert index.hnsw_points == 3000
    assert index.last_build["replayed_points"] > 0
    assert hnsw_segments(folder) >= 1
    assert leftovers(folder) == []

    expected = 3000 + 300 - 330 + 20 - 2  # s3 held 300 + 30 of the extra; gone1 held 2
    assert index.count() == expected
    for i in (42, 1999, 2999):
        if i % 10 != 3:
            assert top(index, rows[i]) == points(rows[i : i + 1], i)[0].id
    assert top(index, extra[11]) == points(extra[11:12], 3011)[0].id  # written during it
    assert top(index, moved) == points(rows[5:6], 5)[0].id  # rewritten during it
    assert all(h.payload["source"] != "s3" for h in index.search(rows[13].tolist(), "", 50))
    # A file filter on the graph: only that file's points, the nearest of them first.
    hits = index.search(rows[42].tolist(), "", 10, sources=["s2"], mode="dense")
    assert hits[0].id == points(rows[42:43], 42)[0].id
    assert len(hits) == 10 and {h.payload["source"] for h in hits} == {"s2"}
    assert top(index, rows[7], "token7", mode="hybrid") == points(rows[7:8], 7)[0].id
    index.close()

    again = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    try:
        assert again.count() == expected
        assert again.hnsw_points == expected  # the graph's 3,000, less the points deleted
        assert not again.indexing  # 10 points outside the graph: nothing to build
        assert top(again, rows[42]) == points(rows[42:43], 42)[0].id
    finally:
        again.close()


def test_second_build_keeps_the_first_graph(tmp_path: Path, gate: Path) -> None:
    folder = tmp_path / "kb"
    gate.touch()
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    try:
        index.upsert(points(vectors(THRESHOLD)))
        index.flush()
        assert index.wait_indexed(TIMEOUT)
        first = graph_segments(folder)
        assert len(first) == 1
        index.upsert(points(vectors(THRESHOLD, seed=2), THRESHOLD))
        index.flush()
        assert index.wait_indexed(TIMEOUT)
        assert index.hnsw_points == 2 * THRESHOLD
        # The first graph's segment is still there: only the new points were indexed.
        assert first < graph_segments(folder) and len(graph_segments(folder)) == 2
    finally:
        index.close()


def test_close_during_build_stops_it(tmp_path: Path, gate: Path) -> None:
    folder = tmp_path / "kb"
    rows = vectors(2500)
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    index.upsert(points(rows))
    index.flush()
    assert index.indexing
    closer = threading.Thread(target=index.close)
    closer.start()
    closer.join(TIMEOUT)
    assert not closer.is_alive(), "close() hung on the build"
    assert leftovers(folder) == []

    gate.touch()
    again = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)  # starts the build again
    try:
        assert again.count() == 2500
        assert top(again, rows[100]) == points(rows[100:101], 100)[0].id
        assert again.indexing
        assert again.wait_indexed(TIMEOUT)
        assert again.hnsw_points == 2500
        assert top(again, rows[100]) == points(rows[100:101], 100)[0].id
    finally:
        again.close()


def test_failed_build_leaves_search_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        hnsw_module, "build_command", lambda *a: [sys.executable, "-c", "raise SystemExit(2)"]
    )
    folder = tmp_path / "kb"
    rows = vectors(2500)
    index = EdgeIndex(folder, DIM, hnsw_threshold=THRESHOLD)
    try:
        index.upsert(points(rows))
        index.flush()
        assert index.wait_indexed(TIMEOUT)
        assert index.hnsw_points == 0
        index.flush()
        assert not index.indexing  # not tried again in this session
        assert top(index, rows[9]) == points(rows[9:10], 9)[0].id
        assert leftovers(folder) == []
    finally:
        index.close()


def test_interrupted_swap_is_undone_on_open(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    rows = vectors(100)
    index = EdgeIndex(folder, DIM)
    index.upsert(points(rows))
    index.close()
    # Killed between the swap's two renames: the old shard stands aside, a copy lingers.
    folder.rename(tmp_path / ".kb.hnsw-old")
    (tmp_path / ".kb.hnsw-build-1-1" / "segments").mkdir(parents=True)
    again = EdgeIndex(folder, DIM)
    try:
        assert again.count() == 100
        assert top(again, rows[3]) == points(rows[3:4], 3)[0].id
        assert leftovers(folder) == []
    finally:
        again.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and SIGKILL")
def test_killed_during_optimize_then_reopens(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.rag.test_hnsw", str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("optimizing"), line
    builder = int(line.split()[1])
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=TIMEOUT)
    proc.stdout.close()

    deadline = time.monotonic() + TIMEOUT
    while _alive(builder) and time.monotonic() < deadline:
        time.sleep(0.01)  # the build's process dies with its parent (PR_SET_PDEATHSIG)
    assert not _alive(builder)

    rows = _crash_rows()
    index = EdgeIndex(folder, 384, hnsw_threshold=None)
    try:
        assert index.count() == 5000
        assert leftovers(folder) == []
        assert index.search(rows[77].tolist(), "", 1, mode="dense")[0].id == _crash_id(77)
    finally:
        index.close()
    index = EdgeIndex(folder, 384, hnsw_threshold=THRESHOLD)  # and the build runs again
    try:
        assert index.wait_indexed(TIMEOUT)
        assert index.hnsw_points == 5000
        assert index.search(rows[77].tolist(), "", 1, mode="dense")[0].id == _crash_id(77)
    finally:
        index.close()


def _crash_rows() -> np.ndarray:
    rows = np.random.default_rng(5).standard_normal((5000, 384), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def _crash_id(i: int) -> str:
    return point_id("crash", "h", i)


def _crash_main(folder: Path) -> None:
    """Run by the kill test: 5,000 points past a 2,000 threshold; say when the build's
    process optimizes, and wait to be killed."""
    rows = _crash_rows()
    index = EdgeIndex(folder, 384, hnsw_threshold=THRESHOLD)
    index.upsert(
        [
            IndexPoint(_crash_id(i), row.tolist(), f"crash {i}", {"source": "crash", "hash": "h"})
            for i, row in enumerate(rows)
        ]
    )
    index.flush()
    build = index._builder.build
    assert build is not None
    if not build.optimizing.wait(TIMEOUT):
        raise SystemExit("the build never started")
    assert build.proc is not None
    print("optimizing", build.proc.pid, flush=True)
    build.thread.join(TIMEOUT)
    print("finished", flush=True)


if __name__ == "__main__":
    _crash_main(Path(sys.argv[1]))
