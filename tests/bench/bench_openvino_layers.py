"""Where OpenVINO's time goes inside the embedder's network, by kind of operation
(OpenVINO's own per-node counters, `PERF_COUNT`), on the calls an ingest makes.

python -m tests.bench.bench_openvino_layers [--runtime openvino|openvino-int8]
    [--precision bf16|f32] [--texts 300] [--rounds 2]

The texts are 900-character pieces of BENCHMARKS.md, tokenized and grouped into calls by
the shipped encoder (`OnnxEncoder`, calls bounded by 1,024 tokens); the network is the one
the runtime loads (OpenVINO's IR, made int8 for "openvino-int8"), compiled as the runtime
compiles it but with the counters on (the network is read from, or made in, Carrel's
cache, as the app does). `--precision` overrides the inference precision (for a probe:
bf16 products beside int8 weights). With `CARREL_BENCH_NO_AMX=1`, as on a processor
without AMX. Prints one JSON summary: wall time per round (counters on) and each kind's
share of the counted time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[2]


def feeds(model_dir: Path, count: int) -> list[dict[str, np.ndarray]]:
    """The feeds the shipped encoder gives its network for `count` pieces of text."""
    from app.rag.onnx_runtime import OnnxEncoder

    made: list[dict[str, np.ndarray]] = []

    class Recorder:
        inputs = frozenset({"input_ids", "attention_mask", "token_type_ids"})

        def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
            made.append({k: v.copy() for k, v in feed.items()})
            return np.zeros((*feed["input_ids"].shape, 384), np.float32)

    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    texts = [text[i : i + 900] for i in range(0, 900 * count, 900)]
    OnnxEncoder(model_dir, network=Recorder()).encode(texts, 10_000, 1024)
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", default="openvino-int8", choices=("openvino", "openvino-int8"))
    parser.add_argument("--precision", default="", help="inference precision (default: shipped)")
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import openvino

    from app.config import Paths
    from app.rag import openvino_runtime as ovr
    from app.rag.embedder import SentenceEmbedder

    int8 = args.runtime == "openvino-int8"
    model_dir = SentenceEmbedder(runtime="fp32")._model_dir()
    calls = feeds(model_dir, args.texts)
    # The person's cache, where the app keeps the network (made there if it is not).
    cache_dir = Paths.default().cache_dir
    core = openvino.Core()
    model_file = ovr.openvino_model(model_dir, cache_dir)
    network: Any = ovr.int8_network(core, model_file, None) if int8 else str(model_file)
    config: dict[str, Any] = {
        "INFERENCE_PRECISION_HINT": args.precision or ("f32" if int8 else "bf16"),
        "INFERENCE_NUM_THREADS": ovr.THREADS,
        "PERFORMANCE_HINT": "LATENCY",
        "PERF_COUNT": True,
    }
    if int8:
        config["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = str(ovr.DYNAMIC_QUANTIZATION_GROUP)
    compiled = core.compile_model(network, "CPU", config)
    names = {n for port in compiled.inputs for n in port.get_names()}
    request = compiled.create_infer_request()
    for feed in calls[:3]:
        request.infer({k: v for k, v in feed.items() if k in names})
    walls = []
    kinds: collections.Counter[str] = collections.Counter()
    for _ in range(args.rounds):
        start = time.perf_counter()
        for feed in calls:
            request.infer({k: v for k, v in feed.items() if k in names})
            for node in request.profiling_info:
                kind = f"{node.node_type} ({node.exec_type})"
                kinds[kind] += node.real_time.total_seconds()
        walls.append(round(time.perf_counter() - start, 2))
    counted = sum(kinds.values())
    print(
        json.dumps(
            {
                "runtime": args.runtime,
                "precision": config["INFERENCE_PRECISION_HINT"],
                "calls": len(calls),
                "padded_tokens": sum(int(f["input_ids"].size) for f in calls),
                "wall_s_rounds": walls,
                "share_of_counted_time": {
                    k: round(v / counted, 3) for k, v in kinds.most_common(8)
                },
                "load_average": os.getloadavg(),
                "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
