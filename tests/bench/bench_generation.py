"""Generation overhead: Carrel's path against raw llama-cpp-python, interleaved A/B.

Both sides load the same GGUF with the same context, threads, prompt, seed and sampling.
Each pair runs the two in alternating order; both start from an empty KV cache (Carrel
resets it when a seed is given, the raw side is reset by hand), so both evaluate the whole
prompt. Timing is taken where the text arrives: for Carrel, in the consumer thread after
the owner-thread hop, which is the cost we want to see.

    python -m tests.bench.bench_generation [--pairs 7] [--max-tokens 256]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from app.engine.backend import GenerationParams, Token
from app.engine.llama import LlamaBackend, LoadOptions
from app.library.registry import ModelRegistry
from app.prompt import ChatMessage

QUESTIONS = [
    "Explain how a lighthouse works.",
    "Write a short story about a cat who learns to fly.",
    "Describe the water cycle to a child.",
    "What should I pack for a week of hiking?",
    "Tell me about the history of bread.",
    "How do trains stay on their tracks?",
    "Write a letter to a friend about spring.",
    "Why is the sky blue?",
    "Give advice for a first job interview.",
    "Describe a busy market in the morning.",
    "How does a bicycle gear system work?",
]
SYSTEM = "You are a helpful assistant."


def _rate(n_tokens: int, t_first: float, t_last: float) -> float:
    return (n_tokens - 1) / (t_last - t_first) if n_tokens > 1 and t_last > t_first else 0.0


def run_raw(llm: Any, question: str, params: GenerationParams) -> dict[str, float]:
    llm.reset()
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    parts: list[str] = []
    for chunk in llm.create_chat_completion(
        messages=messages,
        stream=True,
        max_tokens=params.max_tokens,
        temperature=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k,
        min_p=params.min_p,
        repeat_penalty=params.repeat_penalty,
        seed=params.seed,
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            t_last = time.perf_counter()
            t_first = t_first or t_last
            parts.append(text)
    text = "".join(parts)
    n = len(llm.tokenize(text.encode(), add_bos=False, special=True))
    return {"ttft_ms": (t_first - t0) * 1000, "tps": _rate(n, t_first, t_last), "tokens": n}


def run_carrel(
    backend: LlamaBackend, llm: Any, question: str, params: GenerationParams
) -> dict[str, float]:
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", question)]
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    parts: list[str] = []
    for event in backend.stream(messages, params):
        if isinstance(event, Token):
            t_last = time.perf_counter()
            t_first = t_first or t_last
            parts.append(event.text)
    text = "".join(parts)
    n = len(llm.tokenize(text.encode(), add_bos=False, special=True))
    return {"ttft_ms": (t_first - t0) * 1000, "tps": _rate(n, t_first, t_last), "tokens": n}


def main() -> None:
    import llama_cpp

    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    info = ModelRegistry(Path("/nonexistent")).resolve("SmolLM2-135M-Instruct.Q4_1")
    opts = LoadOptions(context_length=2048, threads=args.threads, warmup=True)
    backend = LlamaBackend(info, opts)
    raw = llama_cpp.Llama(
        str(info.path), n_ctx=2048, n_threads=args.threads, n_gpu_layers=0, verbose=False
    )
    params = GenerationParams(max_tokens=args.max_tokens, seed=42, repeat_penalty=1.1)
    # Warm-up both sides (the first call in a process pays for buffers and kernels).
    run_raw(raw, "Hello", GenerationParams(max_tokens=8, seed=1))
    run_carrel(backend, raw, "Hello", GenerationParams(max_tokens=8, seed=1))

    pairs: list[dict[str, Any]] = []
    for i in range(args.pairs):
        q = QUESTIONS[i % len(QUESTIONS)]
        if i % 2 == 0:
            a = run_carrel(backend, raw, q, params)
            b = run_raw(raw, q, params)
        else:
            b = run_raw(raw, q, params)
            a = run_carrel(backend, raw, q, params)
        pairs.append({"question": q, "carrel": a, "raw": b})
        print(
            f"pair {i}: carrel {a['tps']:.1f} tok/s ttft {a['ttft_ms']:.1f} ms ({a['tokens']} tok)"
            f" | raw {b['tps']:.1f} tok/s ttft {b['ttft_ms']:.1f} ms ({b['tokens']} tok)"
        )
    backend.close()
    raw.close()

    ratios = [p["carrel"]["tps"] / p["raw"]["tps"] for p in pairs if p["raw"]["tps"]]
    ttft_over = [p["carrel"]["ttft_ms"] - p["raw"]["ttft_ms"] for p in pairs]
    result = {
        "benchmark": "generation_overhead",
        "model": info.name,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, threads={args.threads}",
        "pairs": len(pairs),
        "max_tokens": args.max_tokens,
        "median_tps_ratio": round(statistics.median(ratios), 4),
        "median_ttft_overhead_ms": round(statistics.median(ttft_over), 2),
        "median_tps_carrel": round(statistics.median(p["carrel"]["tps"] for p in pairs), 1),
        "median_tps_raw": round(statistics.median(p["raw"]["tps"] for p in pairs), 1),
        "median_ttft_carrel_ms": round(statistics.median(p["carrel"]["ttft_ms"] for p in pairs), 1),
        "median_ttft_raw_ms": round(statistics.median(p["raw"]["ttft_ms"] for p in pairs), 1),
        "same_text_pairs": sum(p["carrel"]["tokens"] == p["raw"]["tokens"] for p in pairs),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps({**result, "runs": pairs}, indent=2))


if __name__ == "__main__":
    main()
