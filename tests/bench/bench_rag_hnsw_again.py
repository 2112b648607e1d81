"""A second HNSW build after more points arrive: does it index only the new points?

python -m tests.bench.bench_rag_hnsw_again [--points 30000]

Builds twice in this process, the way the build's child does (`build_config`): `--points`
random 384-d passages with 7 packed sentence vectors each, optimize, as many again,
optimize. Once with the engine's default segment number (about one per core: the second
build merges the first graph's segment with the new points) and once with Carrel's
`MAX_SEGMENTS`. Prints one JSON summary: seconds of each optimize, the segments after it,
and the process's peak RSS (each case in its own process).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from app.rag.hnsw import MAX_SEGMENTS, build_config
from app.rag.index import EdgeIndex, IndexPoint

DIM = 384


def add(index: EdgeIndex, start: int, n: int, rng: np.random.Generator) -> None:
    for first in range(start, start + n, 2000):
        batch = []
        for i in range(first, min(start + n, first + 2000)):
            v = rng.standard_normal(DIM).astype(np.float32)
            sv = rng.standard_normal((7, DIM)).astype(np.float32)
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
            batch.append(
                IndexPoint(
                    f"{i:08x}-0000-0000-0000-{i:012x}",
                    (v / np.linalg.norm(v)).tolist(),
                    f"word{i % 977} text",
                    {"source": f"/f{i // 200}", "hash": "h", "text": "x" * 800},
                    sv.tolist(),
                )
            )
        index.upsert(batch)


def optimize(folder: Path, segments: int | None) -> float:
    config = build_config(DIM, 10_000)
    if segments is None:  # the engine's default
        config = qe.EdgeConfig(
            vectors=config.vectors,
            sparse_vectors=config.sparse_vectors,
            hnsw_config=config.hnsw_config,
            optimizers=qe.EdgeOptimizersConfig(
                indexing_threshold=config.optimizers.indexing_threshold
            ),
        )
    shard = qe.EdgeShard.load(str(folder), config)
    t = time.perf_counter()
    shard.optimize()
    shard.flush()
    shard.close()
    return round(time.perf_counter() - t, 1)


def graphs(folder: Path) -> int:
    return sum(
        json.loads(m.read_text())["config"]["vector_data"]["dense"]["index"]["type"] == "hnsw"
        for m in (folder / "segments").glob("*/segment.json")
    )


def case(points: int, segments: int | None) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kb"
        out: dict[str, Any] = {"default_segment_number": segments or "engine default"}
        for round_ in (1, 2):
            index = EdgeIndex(folder, DIM, hnsw_threshold=None)
            add(index, (round_ - 1) * points, points, rng)
            index.flush()
            index.close()
            out[f"optimize_{round_}_s"] = optimize(folder, segments)
            out[f"graph_segments_after_{round_}"] = graphs(folder)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=30_000)
    parser.add_argument("--case", choices=["default", "carrel"])
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.points, None if args.case == "default" else MAX_SEGMENTS)))
        return
    results = []
    for name in ("default", "carrel"):
        cmd = [sys.executable, "-m", "tests.bench.bench_rag_hnsw_again", "--case", name]
        run = subprocess.run([*cmd, "--points", str(args.points)], capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(run.stderr[-2000:])
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(json.dumps({"points_per_round": args.points, "cases": results}, indent=2))


if __name__ == "__main__":
    main()
