"""Retrieval quality on real manuals: hit@1, hit@5 and MRR@10 for dense, BM25 and hybrid.

python -m tests.bench.bench_rag_eval   (needs apt packages gutenprint-doc, debian-reference-en)
Prints one JSON summary. The questions, with their gold file and pages, are in
tests/rag/eval/questions.toml; half avoid the manual's own words ("paraphrase").
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.config import Paths
from app.rag.embedder import SentenceEmbedder
from app.rag.index import Mode
from app.rag.retrieve import Citation
from app.rag.service import Documents
from app.store import Store

QUESTIONS = Path(__file__).resolve().parents[1] / "rag" / "eval" / "questions.toml"
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
K = 10


def load_questions(path: Path = QUESTIONS) -> tuple[list[Path], list[dict[str, Any]]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Path(d) for d in data["documents"]], list(data["question"])


def rank(hits: list[Citation], question: dict[str, Any]) -> int | None:
    """1-based rank of the first passage from the gold file covering a gold page."""
    gold = set(question["pages"])
    for i, hit in enumerate(hits, 1):
        if Path(hit.source).name != question["file"] or hit.page is None:
            continue
        if gold & set(range(hit.page, (hit.page_end or hit.page) + 1)):
            return i
    return None


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
        "mrr@10": round(sum(1 / r for r in ranks if r is not None and r <= K) / n, 3),
    }


def evaluate(docs: Documents, collection: str, questions: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in MODES:
        ranks = [rank(docs.search(q["text"], collection, K, mode=mode), q) for q in questions]
        styles = {q["style"] for q in questions}
        out[mode] = {
            "all": scores(ranks),
            **{
                s: scores([r for r, q in zip(ranks, questions, strict=True) if q["style"] == s])
                for s in sorted(styles)
            },
            "missed_at_5": [
                q["text"] for r, q in zip(ranks, questions, strict=True) if r is None or r > 5
            ]
            if mode == "hybrid"
            else len([r for r in ranks if r is None or r > 5]),
        }
    return out


def main() -> None:
    documents, questions = load_questions()
    embedder = SentenceEmbedder()
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.under(Path(tmp)).ensure()
        store = Store(paths.database)
        docs = Documents(paths, store, embedder)
        t = time.perf_counter()
        report = docs.add(documents, "eval")
        ingest_s = time.perf_counter() - t
        result = {
            "questions": len(questions),
            "paraphrased": sum(1 for q in questions if q["style"] == "paraphrase"),
            "documents": [d.name for d in documents],
            "pages": report.pages,
            "chunks": report.chunks,
            "ingest_s": round(ingest_s, 1),
            **evaluate(docs, "eval", questions),
        }
        docs.close()
        store.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
