"""The GPU build running on the CPU against the CPU build, interleaved (issue 12).

A person with a Vulkan build and no usable GPU runs on the CPU; that must cost nothing.
Two llama.cpp builds cannot share a process, so every measurement is a process of its own
(`tests.engine.vulkan_probe speed`): the CPU build from `.venv/llama-cpu` first on
PYTHONPATH, the venv's GPU build with `GGML_VK_VISIBLE_DEVICES` unset (ggml then lists no
Vulkan device here: lavapipe is a CPU-type device). Rounds alternate which goes first. Each
process loads the model (timed), warms up, then times a greedy generation of `--tokens`
from the same prompt three times (median). One run on the lavapipe device shows what the
device path costs here. Build times come from the wheel cache's `build.json`.

    python -m tests.bench.bench_gpu_build [--rounds 7] [--tokens 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app.library.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[2]
CPU_SIDE = Path(sys.prefix) / "llama-cpu"


def probe(build: str, args: argparse.Namespace, model: Path, device: bool = False) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "GGML_VK_VISIBLE_DEVICES"}
    env["PYTHONPATH"] = str(ROOT)
    if build == "cpu":
        env["PYTHONPATH"] = f"{CPU_SIDE}{os.pathsep}{ROOT}"
    if device:
        env["GGML_VK_VISIBLE_DEVICES"] = "0"
    cmd = [sys.executable, "-m", "tests.engine.vulkan_probe", "speed", "--model", str(model),
           "--tokens", str(8 if device else args.tokens), "--rounds", "1" if device else "3",
           "--threads", str(args.threads), "--ctx", "1024",
           "--layers", "auto" if device else "none"]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_times() -> dict[str, Any]:
    wheels = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "carrel/wheels"
    found = {}
    for record in sorted(wheels.glob("llama-*/build.json")):
        data = json.loads(record.read_text())
        found[record.parent.name] = {"backend": data["backend"], "seconds": data["seconds"]}
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not (CPU_SIDE / "llama_cpp").is_dir():
        raise SystemExit(f"no CPU build in {CPU_SIDE}: run `make cpu-side` first")
    model = ModelRegistry(Path("/nonexistent")).resolve("SmolLM2-135M-Instruct.Q4_1").path
    runs: list[dict[str, Any]] = []
    for i in range(args.rounds):
        order = ["cpu", "gpu"] if i % 2 == 0 else ["gpu", "cpu"]
        pair = {build: probe(build, args, model) for build in order}
        runs.append(pair)
        c, g = pair["cpu"], pair["gpu"]
        print(
            f"round {i}: cpu build {c['tps']:.1f} tok/s ttft {c['ttft_ms']:.0f} ms load "
            f"{c['load_s']:.2f} s | gpu build on {g['runs_on']} {g['tps']:.1f} tok/s ttft "
            f"{g['ttft_ms']:.0f} ms load {g['load_s']:.2f} s",
            flush=True,
        )

    def med(build: str, key: str) -> float:
        return statistics.median(r[build][key] for r in runs)

    def ratio(key: str) -> float:
        return round(statistics.median(r["gpu"][key] / r["cpu"][key] for r in runs), 3)

    device = probe("gpu", args, model, device=True)
    result = {
        "benchmark": "gpu_build_on_cpu",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "model": model.name,
        "rounds": args.rounds,
        "tokens": args.tokens,
        "gpu_build_runs_on": runs[0]["gpu"]["runs_on"],
        "median_tps_ratio": ratio("tps"),
        "median_ttft_ratio": ratio("ttft_ms"),
        "median_load_ratio": ratio("load_s"),
        "cpu_build": {k: round(med("cpu", k), 3) for k in ("tps", "ttft_ms", "load_s")},
        "gpu_build_on_cpu": {k: round(med("gpu", k), 3) for k in ("tps", "ttft_ms", "load_s")},
        "gpu_build_on_device": {k: device[k] for k in ("runs_on", "tps", "ttft_ms", "load_s")},
        "build_seconds": build_times(),
    }  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
