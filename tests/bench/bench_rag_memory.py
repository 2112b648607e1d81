"""Peak memory (RSS) of ingesting large text, each case in its own child process.

python -m tests.bench.bench_rag_memory [--mb 500] [--real-mb 2,6] [--log-mb 200] [--trace F]
(`--real-mb ""`, `--mb 0` and `--log-mb 0` leave those cases out; `--trace` appends a JSON
line to F each time a file of a case is indexed: time, passages, resident memory and its
peak so far, so a run stopped before its end still shows how memory grew.)

Embedding 500 MB (~600k passages) with the real model at ~30 passages/s would take
about six hours here, so the 500 MB case runs the real loaders, chunker, Qdrant Edge index
(dense + BM25 sparse vectors, payloads) and records with a STAND-IN EMBEDDER (`HashEmbedder`:
unit vectors from a hash, no model). Two shorter runs with the REAL embedder show whether
memory grows with the amount ingested. The 200 MB single-line log shows what happens to
that file and what it costs. Prints one JSON summary.

`peak_rss_mb` is the child's peak while ingesting (getrusage, before any search), HNSW
builds included: an ingest builds in steps (`EdgeIndex.bulk`), each in its own process
(`build_process_peak_rss_mb`: the largest of them; `build_processes`: how many ran) whose
result the ingest process loads; `combined_peak_rss_mb` is the largest sum of the two
processes at one moment (sampled every 0.2 s). `peak_rss_through_build_mb` also covers a
build left to run after the ingest (none, unless the last flush passed the threshold), and
`peak_rss_with_search_mb` 40 hybrid searches of the collection afterwards (their mean and
p95 are reported too). `peak_anon_mb` / `peak_file_backed_mb` split the ingest's resident
memory (sampled).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

TEXT = Path("/usr/share/debian-reference/debian-reference.en.txt.gz")
FILE_MB = 10  # the 500 MB folder is made of files this size (~12k passages each)


class HashEmbedder:
    """STAND-IN for the model in memory runs: a deterministic unit vector per text."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dim = 384

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out.append((v / np.linalg.norm(v)).tolist())
        return out


def _source_text() -> str:
    import gzip

    return gzip.decompress(TEXT.read_bytes()).decode("utf-8", "replace")


def make_folder(folder: Path, total_mb: float, file_mb: float = FILE_MB) -> int:
    """Text files adding up to `total_mb`, made of the Debian Reference with each copy
    numbered (so no two passages are the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _source_text()
    target = int(file_mb * 1e6)
    written = 0
    n = 0
    while written < total_mb * 1e6:
        size = min(target, int(total_mb * 1e6) - written)
        with (folder / f"part{n:03}.txt").open("w", encoding="utf-8") as f:
            done = 0
            copy = 0
            while done < size:
                block = f"\n\nCopy {n}.{copy}\n\n" + base
                block = block[: size - done]
                f.write(block)
                done += len(block.encode("utf-8"))
                copy += 1
        written += size
        n += 1
    return n


def make_log(path: Path, total_mb: float) -> None:
    """One line, no newline, of log records separated by spaces."""
    record = "2026-11-02T10:00:00Z host app[123]: request served status=200 bytes=5120 "
    block = record * (1_000_000 // len(record))
    with path.open("w", encoding="ascii") as f:
        for _ in range(int(total_mb)):
            f.write(block)


def child(args: argparse.Namespace) -> None:
    """Runs in the measured process: ingest `args.child`, search it, print the report."""
    import resource
    import threading

    from app.config import Paths
    from app.rag.embedder import Embedder, SentenceEmbedder
    from app.rag.service import Documents
    from app.store import Store

    peak = {"RssAnon": 0, "RssFile": 0}
    build_peak = {"RssAnon": 0, "RssFile": 0}  # the HNSW builds' processes
    combined = {"kb": 0}  # this process and its build's, at the same moment
    # Per build process: its own high-water mark and this process's largest RSS meanwhile.
    builds: dict[str, dict[str, int]] = {}
    done = threading.Event()

    def read(status: Path, into: dict[str, int]) -> int:
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the process has just ended
            return 0
        rss = 0
        for line in lines:
            key = line.split(":")[0]
            if key in into:
                into[key] = max(into[key], int(line.split()[1]))
            rss += int(line.split()[1]) if key in ("RssAnon", "RssFile", "RssShmem") else 0
            if key == "VmHWM":
                into["hwm"] = max(into.get("hwm", 0), int(line.split()[1]))
        return rss

    def sample() -> None:  # the split of resident memory at its largest (kB)
        while not done.wait(0.2):
            own = total = read(Path("/proc/self/status"), peak)
            for children in Path("/proc/self/task").glob("*/children"):
                for pid in children.read_text().split():
                    mark = builds.setdefault(pid, {"parent": 0})
                    mark["parent"] = max(mark["parent"], own)
                    total += read(Path(f"/proc/{pid}/status"), build_peak)
                    read(Path(f"/proc/{pid}/status"), mark)
            combined["kb"] = max(combined["kb"], total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # The real embedder's exported model (`app.rag.onnx_runtime`) is made once, before the
    # cases, in a cache they share: its one-time export is not what a long ingest costs.
    cache = Path(args.model_cache) if args.model_cache else None
    embedder: Embedder = (
        HashEmbedder() if args.embedder == "stand-in" else SentenceEmbedder(cache_dir=cache)
    )
    paths = Paths.under(Path(args.home)).ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    t = time.perf_counter()
    progress = _tracer(Path(args.trace), args.embedder, t, combined, builds) if args.trace else None
    report = docs.add([Path(args.child)], "mem", progress)
    seconds = time.perf_counter() - t
    ingest_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    split = dict(peak)  # the sampler goes on through the searches: keep the ingest's
    # The HNSW build a large collection needs starts when the ingest ends, in its own
    # process: wait for it and take that process's peak too.
    index = docs.index("mem")
    t = time.perf_counter()
    wait = getattr(index, "wait_indexed", None)
    if wait is not None:
        wait()
    build_wait_s = time.perf_counter() - t
    build = dict(getattr(index, "last_build", {}))
    build_peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    after_build_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(40):
        t = time.perf_counter()
        docs.search(f"package configuration {i}", "mem")
        times.append(time.perf_counter() - t)
    times.sort()
    docs.close()
    store.close()
    done.set()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "runtime": getattr(embedder, "active_runtime", "stand-in"),
                "peak_rss_mb": round(ingest_peak_kb / 1024, 1),
                "search_mean_ms": round(sum(times) / len(times) * 1000, 1),
                "search_p95_ms": round(times[int(0.95 * len(times)) - 1] * 1000, 1),
                "hnsw_points": getattr(index, "hnsw_points", 0),
                "build_processes": len(builds),
                "combined_peak_rss_mb": round(combined["kb"] / 1024, 1),
                # An upper bound: each build's high-water mark plus this process's largest
                # RSS while it ran (the two need not coincide; sampling can miss a spike).
                "combined_bound_mb": round(
                    max((m["parent"] + m.get("hwm", 0) for m in builds.values()), default=0) / 1024,
                    1,
                ),
                "search_peak_file_backed_mb": round(peak["RssFile"] / 1024, 1),
                "peak_rss_through_build_mb": round(after_build_kb / 1024, 1),
                "build_process_peak_rss_mb": round(build_peak_kb / 1024, 1),
                "build_process_peak_anon_mb": round(build_peak["RssAnon"] / 1024, 1),
                "build_process_peak_file_backed_mb": round(build_peak["RssFile"] / 1024, 1),
                "build_wait_s": round(build_wait_s, 1),
                "build": {k: round(v, 1) for k, v in build.items()},
                "peak_anon_mb": round(split["RssAnon"] / 1024, 1),
                "peak_file_backed_mb": round(split["RssFile"] / 1024, 1),
                "chunks": report.chunks,
                "indexed": report.count("indexed"),
                "failed": [f.reason for f in report.files if f.status == "failed"],
            }
        )
    )


def _tracer(
    trace: Path,
    embedder: str,
    start: float,
    combined: dict[str, int],
    builds: dict[str, dict[str, int]],
) -> Any:
    """A progress callback that appends a line to `trace` as each file is indexed. A build
    process's own peak is its sampled VmHWM: its ru_maxrss starts at this process's (Linux
    keeps the parent's across fork and exec)."""
    import resource

    def told(state: Any) -> None:
        if state.event != "file":
            return
        status = dict(
            line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
        )
        line = {
            "at": time.strftime("%H:%M:%S", time.gmtime()),
            "embedder": embedder,
            "seconds": round(time.perf_counter() - start, 1),
            "files": state.files_done,
            "passages": state.chunks,
            "rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "build_hwm_mb": round(
                max((m.get("hwm", 0) for m in builds.values()), default=0) / 1024, 1
            ),
            "build_processes": len(builds),
            "combined_peak_mb": round(combined["kb"] / 1024, 1),
        }
        with trace.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    return told


def run(
    path: Path,
    embedder: str,
    home: Path,
    model_cache: Path | None = None,
    trace: str | None = None,
) -> dict[str, Any]:
    """Run one case in a child and read its own peak RSS (ru_maxrss, kB) from wait4."""
    cmd = [sys.executable, "-m", "tests.bench.bench_rag_memory", "--child", str(path)]
    cmd += ["--embedder", embedder, "--home", str(home)]
    if model_cache is not None:
        cmd += ["--model-cache", str(model_cache)]
    if trace:
        cmd += ["--trace", trace]
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, cwd=Path(__file__).resolve().parents[2])
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"case {path.name} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["peak_rss_with_search_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["embedder"] = embedder
    result["input_mb"] = round(_size(path) / 1e6, 1)
    return result


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--embedder", default="stand-in")
    parser.add_argument("--home")
    parser.add_argument("--mb", type=float, default=500)
    parser.add_argument("--real-mb", default="2,6")
    parser.add_argument("--log-mb", type=float, default=200)
    parser.add_argument(
        "--real-file-mb",
        type=float,
        default=FILE_MB,
        help="size of the files the real-embedder cases are made of: the same size for"
        " every case separates growth with the text ingested from growth with a file's size",
    )
    parser.add_argument("--model-cache")
    parser.add_argument("--trace", help="append a line per indexed file of a case to this file")
    parser.add_argument(
        "--compare-stand-in",
        action="store_true",
        help="after each real-embedder case, the same files with the stand-in embedder",
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.log_mb > 0:
            log = root / "big.log"
            make_log(log, args.log_mb)
            out["single_line_log"] = run(log, "stand-in", root / "h-log")
            log.unlink()
        cache = root / "model-cache"
        real = [float(x) for x in args.real_mb.split(",") if x]
        if real:
            # In a process of its own: a child forked from a parent that had loaded torch
            # would start with the parent's peak in its ru_maxrss (Linux keeps it across
            # fork and exec), as one run of this bench did (1,370 MB in every case).
            export = "from app.rag.embedder import SentenceEmbedder as E; import sys, pathlib;"
            export += " E(cache_dir=pathlib.Path(sys.argv[1])).load()"
            subprocess.run([sys.executable, "-c", export, str(cache)], check=True)
        for mb in real:
            folder = root / f"real{mb:g}"
            made = min(args.real_file_mb, mb)
            make_folder(folder, mb, file_mb=made)
            case = run(folder, "real", root / f"h-real{mb:g}", cache, args.trace)
            out[f"real_embedder_{mb:g}mb"] = case
            out[f"real_embedder_{mb:g}mb"]["file_mb"] = made
            if args.compare_stand_in:  # the same files without the model
                case = run(folder, "stand-in", root / f"h-stand-in{mb:g}")
                out[f"stand_in_embedder_{mb:g}mb_same_files"] = case | {"file_mb": made}
        if args.mb > 0:
            folder = root / "big"
            files = make_folder(folder, args.mb)
            out[f"stand_in_embedder_{args.mb:g}mb"] = run(folder, "stand-in", root / "h-big")
            out[f"stand_in_embedder_{args.mb:g}mb"]["files"] = files
    out["limit_mb"] = 2048
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
