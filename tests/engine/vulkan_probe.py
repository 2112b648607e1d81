"""One GPU scenario in a process of its own, printing one JSON object on its last line.

`test_vulkan.py` and `bench_gpu_build.py` run this with the llama.cpp build they want
(the venv's, or the CPU build unpacked in `.venv/llama-cpu` put first on PYTHONPATH) and
with or without `GGML_VK_VISIBLE_DEVICES=0`: ggml builds its device list once per process,
so each device set needs a process.

    python -m tests.engine.vulkan_probe greedy --model PATH [--layers auto] [--tokens 6]
    python -m tests.engine.vulkan_probe lost --model PATH
    python -m tests.engine.vulkan_probe speed --model PATH [--rounds 3] [--tokens 64]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from app.engine import llama_log
from app.engine.devices import system_report
from app.library.load_options import LoadOptions, parse_gpu_layers
from app.library.registry import ModelRegistry

PROMPT = (
    "<|im_start|>user\nName the planets of the solar system.<|im_end|>\n<|im_start|>assistant\n"
)
KEPT_LINES = ("offloaded", "buffer size", "ggml_vulkan", "allocate", "llama_kv_cache: size")


def _info(path: str) -> Any:
    return ModelRegistry(Path(path).parent).resolve(path)


def _options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        context_length=args.ctx,
        gpu_layers=parse_gpu_layers(args.layers),
        batch_size=args.batch,
        threads=args.threads,
    )


def greedy_tokens(llm: Any, n: int) -> list[int]:
    """The first `n` tokens of the greedy continuation of PROMPT (top-1, no penalty)."""
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    out: list[int] = []
    for token in llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
        out.append(int(token))
        if len(out) >= n:
            break
    llm.reset()
    return out


def greedy(args: argparse.Namespace) -> dict[str, Any]:
    """Load where `--layers` says, report llama.cpp's placement and the greedy tokens."""
    import llama_cpp

    from app.engine.loading import open_model

    report = system_report()
    info = _info(args.model)
    t0 = time.perf_counter()
    with llama_log.capture() as lines:
        llm, placement = open_model(info, _options(args), args.ctx)
    load_s = time.perf_counter() - t0
    try:
        tokens = greedy_tokens(llm, args.tokens)
    finally:
        llm.close()
    return {
        "llama_cpp": str(Path(llama_cpp.__file__).parent),
        "report": report.as_dict(),
        "placement": placement.as_dict(),
        "lines": [ln for ln in lines if any(k in ln for k in KEPT_LINES)],
        "startup": [ln for ln in llama_log.first() if "ggml_vulkan" in ln],
        "tokens": tokens,
        "load_s": load_s,
    }


def lost(args: argparse.Namespace) -> dict[str, Any]:
    """A device that fails between two replies. Nothing can be unplugged here, so the
    failure is made where llama.cpp reports it: `llama_decode` returns -3 (its code for
    "the backend's graph compute failed", which is what a lost device gives) for the next
    call, at the ctypes boundary llama-cpp-python calls. Everything around it is real: the
    model on the Vulkan device, Carrel's owner thread, the reload on the CPU."""
    import llama_cpp.llama_cpp as bindings

    from app.engine.backend import ChatMessage, Done, GenerationParams
    from app.engine.llama import LlamaBackend

    backend = LlamaBackend(_info(args.model), _options(args))
    messages = [ChatMessage("user", "Name a planet.")]
    params = GenerationParams(max_tokens=args.tokens, seed=1, temperature=0.0)
    out: dict[str, Any] = {"before": backend.placement.as_dict()}
    first = list(backend.stream(messages, params))
    out["first_reply"] = first[-1].text if isinstance(first[-1], Done) else ""
    real_decode = bindings.llama_decode
    calls: list[int] = []

    def failing_decode(ctx: Any, batch: Any) -> int:
        calls.append(1)
        return -3

    bindings.llama_decode = failing_decode
    t0 = time.perf_counter()
    try:
        list(backend.stream(messages, params))
        out["error"] = ""
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        bindings.llama_decode = real_decode
    out["error_after_s"] = time.perf_counter() - t0
    out["failed_calls"] = len(calls)
    third = list(backend.stream(messages, params))
    out["third_reply"] = third[-1].text if isinstance(third[-1], Done) else ""
    out["after"] = backend.placement.as_dict()
    backend.close()
    return out


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Load time, time to first token and tokens/s of this build, on whatever it finds."""
    from app.engine.loading import open_model

    info = _info(args.model)
    t0 = time.perf_counter()
    llm, placement = open_model(info, _options(args), args.ctx)
    load_s = time.perf_counter() - t0
    greedy_tokens(llm, 4)  # warm-up: the first evaluation in a process pays for buffers
    ttft, tps = [], []
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    for _ in range(args.rounds):
        llm.reset()
        start = time.perf_counter()
        first = last = 0.0
        n = 0
        for _token in llm.generate(prompt, top_k=1, temp=0.0, repeat_penalty=1.0):
            last = time.perf_counter()
            first = first or last
            n += 1
            if n >= args.tokens:
                break
        ttft.append((first - start) * 1000)
        tps.append((n - 1) / (last - first) if last > first else 0.0)
    llm.close()
    return {
        "runs_on": placement.describe(),
        "load_s": load_s,
        "ttft_ms": statistics.median(ttft),
        "tps": statistics.median(tps),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["greedy", "lost", "speed"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--layers", default="auto")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    result = {"greedy": greedy, "lost": lost, "speed": speed}[args.scenario](args)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
