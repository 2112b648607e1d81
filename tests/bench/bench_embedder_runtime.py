"""What the embedder's runtime costs a person outside a long ingest: the one-time export
of the onnxruntime model (and OpenVINO's first use), and a fresh process's first query
vector, per runtime.

python -m tests.bench.bench_embedder_runtime [--rounds 3] [--runtimes openvino,onnx-int8]
    [--roots .,../branch]

Each figure is a fresh child process (`python -c`), so imports count as a person meets
them: the first search after Carrel starts pays them. Rounds alternate the runtimes (and,
with `--roots`, the checkouts whose `app` the children import, paths relative to where the
bench runs, each on its own copy of one cache, so a change's first query is timed beside
the code before it; labelled by the checkout's folder name). Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

FIRST_QUERY = """
import time, sys
t = time.perf_counter()
from pathlib import Path
from app.rag.embedder import SentenceEmbedder
e = SentenceEmbedder(runtime=sys.argv[1], cache_dir=Path(sys.argv[2]))
v = e.embed(["how do I add a printer?"])
ready = time.perf_counter() - t
t = time.perf_counter()
for _ in range(20):
    e.embed(["how do I add a printer?"])
print(e.active_runtime, ready, (time.perf_counter() - t) / 20)
"""

EXPORT = """
import time, sys
from pathlib import Path
from app.rag.embedder import SentenceEmbedder
from app.rag import onnx_runtime as ox
e = SentenceEmbedder(runtime="fp32")
folder = e._model_dir()
t, c = time.perf_counter(), time.process_time()
ox.cached_model(folder, Path(sys.argv[1]), ox.DEFAULT_RECIPE)
print(time.perf_counter() - t, time.process_time() - c)
"""


ROOT = Path(__file__).resolve().parents[2]


def child(code: str, *args: str, root: Path = ROOT) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def _label(runtime: str, root: Path, roots: list[Path]) -> str:
    return runtime if len(roots) == 1 else f"{runtime} @ {root.name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--runtimes",
        default="openvino,onnx-int8,int8,bf16",
        help="comma-separated runtimes whose first query is timed (also openvino-int8)",
    )
    parser.add_argument(
        "--roots",
        default="",
        help="comma-separated checkouts to compare, first queries only (default: this one)",
    )
    parser.add_argument("--export-rounds", type=int, help="exports timed (default: --rounds)")
    args = parser.parse_args()
    roots = [Path(r).resolve() for r in args.roots.split(",") if r] or [ROOT]
    out: dict[str, object] = {"load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        exports = []
        for r in range(args.rounds if args.export_rounds is None else args.export_rounds):
            wall, cpu = child(EXPORT, str(Path(tmp) / f"export-{r}"))
            exports.append((float(wall), float(cpu)))
        out["export_s"] = (
            None
            if not exports
            else {
                "wall_rounds": [round(w, 1) for w, _ in exports],
                "cpu_rounds": [round(c, 1) for _, c in exports],
                "wall_median": round(statistics.median(w for w, _ in exports), 1),
            }
        )
        if not exports:
            child(EXPORT, str(Path(tmp) / "export-0"))
        runtimes = [r.strip() for r in args.runtimes.split(",")]
        # Each checkout starts from a copy of the cache holding the export; its first use of
        # each runtime makes what that runtime keeps (OpenVINO's network from the export, an
        # installed Carrel ships it; the int8 network; the compiled forms), timed apart. The
        # rounds then start from that cache, as any later start does.
        caches: dict[Path, Path] = {}
        firsts: dict[str, list[tuple[float, float]]] = {}
        first_use: dict[str, float] = {}
        for i, root in enumerate(roots):
            caches[root] = Path(tmp) / f"cache-{i}"
            shutil.copytree(Path(tmp) / "export-0", caches[root])
            for runtime in runtimes:
                _, ready, _ = child(FIRST_QUERY, runtime, str(caches[root]), root=root)
                first_use[_label(runtime, root, roots)] = round(float(ready), 2)
        out["first_use_s"] = first_use
        for _ in range(args.rounds):
            for runtime in runtimes:
                for root in roots:
                    active, ready, per = child(FIRST_QUERY, runtime, str(caches[root]), root=root)
                    assert active == runtime, (active, runtime)
                    rows = firsts.setdefault(_label(runtime, root, roots), [])
                    rows.append((float(ready), float(per)))
        out["first_query"] = {
            runtime: {
                "process_start_to_first_vector_s": [round(a, 2) for a, _ in rows],
                "median_s": round(statistics.median(a for a, _ in rows), 2),
                "next_queries_ms": round(statistics.median(b for _, b in rows) * 1000, 1),
            }
            for runtime, rows in firsts.items()
        }
    out["load_average_end"] = os.getloadavg()
    out["at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
