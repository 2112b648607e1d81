"""The local server's cost: the same model through `carrel serve` against the in-process
path, interleaved A/B in one run, and 20 clients at once.

- Tokens/s and time to first token: each pair asks the same question with the same seed
  (temperature 0) once in process (`LlamaBackend.stream`, timed in the consumer thread as
  the GUI meets it) and once through the server with the official `openai` client
  streaming (timed where the client reads each chunk), in alternating order. Both start
  from an empty KV cache (a seed resets it), so both evaluate the whole prompt.
- 20 concurrent clients: 20 short non-streamed requests at once through the server
  (wall time, tokens/s over all, p50/p95 latency per request) against the same 20 run one
  after another in process.

    python -m tests.bench.bench_server [--pairs 7] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai

from app.config import Paths
from app.engine.backend import Done, Token
from app.prompt import ChatMessage
from app.server.options import ServerOptions
from app.server.runner import LocalServer
from app.workbench import Workbench
from tests.bench.bench_generation import QUESTIONS, SYSTEM

MODEL = "SmolLM2-135M-Instruct.Q4_1"
CLIENTS = 20


def _rate(n_tokens: int, t_first: float, t_last: float) -> float:
    return (n_tokens - 1) / (t_last - t_first) if n_tokens > 1 and t_last > t_first else 0.0


def in_process(wb: Workbench, question: str, max_tokens: int, seed: int) -> dict[str, float]:
    backend = wb.backend
    assert backend is not None
    params = wb.params_for({"max_tokens": max_tokens, "seed": seed, "temperature": 0.0})
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", question)]
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    tokens = 0
    for event in backend.stream(messages, params):
        if isinstance(event, Token):
            t_last = time.perf_counter()
            t_first = t_first or t_last
        elif isinstance(event, Done):
            tokens = event.stats.completion_tokens
    return {
        "ttft_ms": (t_first - t0) * 1000,
        "tokens": tokens,
        "tps": _rate(tokens, t_first, t_last),
    }


def served(client: openai.OpenAI, question: str, max_tokens: int, seed: int) -> dict[str, float]:
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    tokens = 0
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
        max_tokens=max_tokens,
        seed=seed,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            t_last = time.perf_counter()
            t_first = t_first or t_last
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return {
        "ttft_ms": (t_first - t0) * 1000,
        "tokens": tokens,
        "tps": _rate(tokens, t_first, t_last),
    }


def concurrent_clients(client: openai.OpenAI, wb: Workbench, max_tokens: int) -> dict[str, Any]:
    """20 requests at once through the server, then the same 20 in process in a row."""

    def one(i: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        reply = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
            max_tokens=max_tokens,
            seed=i,
            temperature=0.0,
        )
        assert reply.usage is not None and reply.choices[0].message.content
        return time.perf_counter() - t0, reply.usage.completion_tokens

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, range(CLIENTS)))
    wall = time.perf_counter() - t0
    latencies = sorted(r[0] for r in results)
    tokens = sum(r[1] for r in results)

    t0 = time.perf_counter()
    serial_tokens = 0
    for i in range(CLIENTS):
        serial_tokens += int(in_process(wb, QUESTIONS[i % len(QUESTIONS)], max_tokens, i)["tokens"])
    serial_wall = time.perf_counter() - t0
    return {
        "answered": len(results),
        "wall_s": round(wall, 2),
        "tokens": tokens,
        "tokens_per_s": round(tokens / wall, 1),
        "p50_s": round(statistics.median(latencies), 2),
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1) + 0.5)], 2),
        "in_process_serial_wall_s": round(serial_wall, 2),
        "in_process_serial_tokens_per_s": round(serial_tokens / serial_wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--concurrent-max-tokens", type=int, default=32)
    # 0: the settings' default (one per physical core). On a machine loaded by others,
    # llama.cpp's threads wait on each other spinning; one thread measures the server's
    # cost with far less of that noise.
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as home:
        wb = Workbench.open(Paths.under(Path(home)))
        if args.threads:  # saved as the model's own: the server loads a model as saved
            options = wb.load_options(MODEL)
            wb.library.save_load_options(MODEL, replace(options, threads=args.threads))
        wb.load_model(MODEL, warmup=True)
        server = LocalServer(wb, ServerOptions(port=0, model=MODEL)).start()
        client = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=900)
        try:
            served(client, "Hello", 4, 0)  # warm the HTTP path once
            pairs = []
            for i in range(args.pairs):
                question = QUESTIONS[i % len(QUESTIONS)]
                order = ["in_process", "server"] if i % 2 == 0 else ["server", "in_process"]
                pair: dict[str, dict[str, float]] = {}
                for side in order:
                    if side == "in_process":
                        pair[side] = in_process(wb, question, args.max_tokens, 100 + i)
                    else:
                        pair[side] = served(client, question, args.max_tokens, 100 + i)
                pairs.append(pair)
                print(json.dumps({"pair": i, **pair}), flush=True)
            ratios = [p["server"]["tps"] / p["in_process"]["tps"] for p in pairs]
            overheads = [p["server"]["ttft_ms"] - p["in_process"]["ttft_ms"] for p in pairs]
            crowd = concurrent_clients(client, wb, args.concurrent_max_tokens)
        finally:
            client.close()
            server.stop()
            wb.close()
    summary = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "model": MODEL,
        "threads": args.threads or "default",
        "pairs": args.pairs,
        "max_tokens": args.max_tokens,
        "in_process_tps_median": round(statistics.median(p["in_process"]["tps"] for p in pairs), 1),
        "server_tps_median": round(statistics.median(p["server"]["tps"] for p in pairs), 1),
        "tps_ratio_median": round(statistics.median(ratios), 3),
        "tps_ratio_min_max": [round(min(ratios), 3), round(max(ratios), 3)],
        "in_process_ttft_ms_median": round(
            statistics.median(p["in_process"]["ttft_ms"] for p in pairs), 1
        ),
        "server_ttft_ms_median": round(statistics.median(p["server"]["ttft_ms"] for p in pairs), 1),
        "ttft_overhead_ms_median": round(statistics.median(overheads), 1),
        "same_tokens": all(p["server"]["tokens"] == p["in_process"]["tokens"] for p in pairs),
        "concurrent": crowd,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
