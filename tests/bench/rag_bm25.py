"""BM25's length normalisation, scored from one ingest (`bench_rag_eval --bm25-length`).

BM25 scales a term's weight in a passage by the passage's length against the average
length `avg_len` of the collection's passages. Carrel's BM25 (`app.rag.points.bm25`,
qdrant-edge's `Bm25Config(language="english")`) keeps the engine's default `avg_len`
256, while Carrel's passages are cut at 170-230 words (`app.rag.chunker`), far fewer
tokens once the English stop words are dropped: every passage counts as short, so term
frequency saturates sooner than BM25 intends and passages of very different lengths are
told apart less. BM25 as defined uses the collection's own average.

Candidates and rule (eighth round of issue 16), written before any set was run with them:
- "256 (shipped)": the engine's default.
- "measured": `MEASURED_AVG_LEN`, the mean length of a passage as the engine's English
  tokenizer counts it, over the passages of dev's and dev2's documents (`python -m
  tests.bench.rag_bm25`, which reads and cuts the documents and embeds nothing; measured
  once before any retrieval ran, and written here). A constant, because Carrel's passages
  have the chunker's size whatever the collection (table rows aside).
Both are scored from one shipped ingest per set: the dense side's ranking as shipped, the
BM25 side's top `PREFETCH` recomputed over all the collection's passages (the engine's IDF,
`ln(1 + (N - n + 0.5) / (n + 0.5))`, times the document weights `Bm25.embed_document`
gives at that `avg_len`), fused as shipped. The recomputation at 256 is checked against
the engine's own BM25 ranking (reported: how many questions get the same top 10).
"measured" ships only if on dev2 (the pick) hybrid MRR@10 is ahead of 256's by more than
0.015 (the noise floor measured in the fifth round) with no hit@5 question lost, and on
dev (the report) MRR@10 is not lower by more than 0.015 with at most one hit@5 question
fewer; the tabular and evaluation sets only report. Shipping it would change every
collection's sparse vectors (they are cheap to recompute: no embedding).
Outcome (2026-12-06): not picked. dev2 hybrid MRR@10 0.856 against 0.864 (hit@1 one
question fewer, hit@5 the same); dev lost two hit@5 questions, tab and eval moved by less
than 0.01. The recomputation at 256 gave the engine's own hybrid figures on every set.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from typing import Any

import numpy as np
import qdrant_edge as qe

from app.rag.index import FUSION_WEIGHTS, PREFETCH, SPARSE
from app.rag.represent import fuse
from app.rag.service import Documents
from tests.bench.bench_rag_eval import K, rank, scores
from tests.bench.rag_candidates import citations, edge_index

DEFAULT_AVG_LEN = 256.0
_ENGINE = qe.Bm25Config(language="english")  # the parameters `app.rag.points.bm25` uses
# `python -m tests.bench.rag_bm25`, 2026-12-06 06:22 UTC: 80.2 over dev's 2,072 and dev2's
# 897 passages (a passage's length read back from its weights, checked on hand-counted
# texts).
MEASURED_AVG_LEN: float | None = 80.2


def passage_length(bm25: Any, text: str) -> float:
    """A passage's length in the engine's tokens, read back from its document weights: a
    term seen once weighs (k+1) / (1 + k (1 - b + b len / avg_len))."""
    values = bm25.embed_document(text).values
    if not values:
        return 0.0
    k, b, avg = _ENGINE.k, _ENGINE.b, _ENGINE.avg_len
    once = min(values)  # the lightest term: seen once in all but the most repetitive text
    return max(0.0, ((k + 1) / once - 1) / k - (1 - b)) * avg / b


class Keyword:
    """BM25 over a collection's passages with a given `avg_len`, in memory."""

    def __init__(self, texts: dict[str, str], avg_len: float) -> None:
        encoder = qe.Bm25(qe.Bm25Config(language="english", avg_len=avg_len))
        self.postings: dict[int, list[tuple[int, float]]] = defaultdict(list)
        self.keys = list(texts)
        for row, key in enumerate(self.keys):
            vector = encoder.embed_document(texts[key])
            for term, value in zip(vector.indices, vector.values, strict=True):
                self.postings[term].append((row, value))
        n = len(self.keys)
        self.idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()
        }
        self.query_encoder = encoder

    def ranked(self, text: str, limit: int) -> list[tuple[str, float]]:
        scores = np.zeros(len(self.keys), dtype=np.float64)
        for term in set(self.query_encoder.embed_query(text).indices):
            for row, value in self.postings.get(term, []):
                scores[row] += self.idf[term] * value
        top = [int(i) for i in np.argsort(-scores, kind="stable")[:limit] if scores[i] > 0]
        return [(self.keys[i], float(scores[i])) for i in top]


def bm25_length_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, Any]:
    """Hybrid and BM25-alone scores at each `avg_len` of the module's docstring, from the
    same dense rankings; and how far the recomputation at 256 agrees with the engine."""
    index = edge_index(docs, collection)
    texts: dict[str, str] = {}
    offset = None
    while True:
        page, offset = index.scroll(offset, 1000)
        texts.update({h.id: str(h.payload.get("text", "")) for h in page})
        if offset is None:
            break
    semantic = [
        index._dense_ranked(docs.embedder.embed([q["text"]])[0], PREFETCH, None) for q in questions
    ]
    engine = [
        index._query(index._bm25.embed_query(q["text"]), SPARSE, PREFETCH, None) for q in questions
    ]
    lengths = {
        "256 (shipped)": DEFAULT_AVG_LEN,
        **({f"measured {MEASURED_AVG_LEN}": MEASURED_AVG_LEN} if MEASURED_AVG_LEN else {}),
    }
    cite = citations(index, set(texts))
    out: dict[str, Any] = {"passages": len(texts)}
    shipped: list[int | None] = []
    for name, avg_len in lengths.items():
        keyword = Keyword(texts, avg_len)
        lists = [keyword.ranked(q["text"], PREFETCH) for q in questions]
        if avg_len == DEFAULT_AVG_LEN:
            out["same_top10_as_engine"] = sum(
                [k for k, _ in mine[:K]] == [k for k, _ in theirs[:K]]
                for mine, theirs in zip(lists, engine, strict=True)
            )
        hybrid, alone = [], []
        for dense, words, q in zip(semantic, lists, questions, strict=True):
            fused = fuse([dense, words], FUSION_WEIGHTS)[:K]
            hybrid.append(rank([cite(k) for k, _ in fused], q))
            alone.append(rank([cite(k) for k, _ in words[:K]], q))
        shipped = shipped or hybrid
        out[name] = {
            "hybrid": scores(hybrid),
            "bm25": scores(alone),
            "hit5_lost_vs_shipped": sum(
                _top5(s) and not _top5(h) for s, h in zip(shipped, hybrid, strict=True)
            ),
            "hit5_gained_vs_shipped": sum(
                _top5(h) and not _top5(s) for s, h in zip(shipped, hybrid, strict=True)
            ),
        }
    return out


def _top5(r: int | None) -> bool:
    return r is not None and r <= 5


def measure(sets: tuple[str, ...] = ("dev", "dev2")) -> float:
    """The mean passage length (engine tokens) over the passages of `sets`' documents."""
    from app.rag.pipeline import read_chunks
    from app.rag.points import bm25
    from tests.bench.bench_rag_eval import QUESTION_SETS, load_questions

    encoder = bm25()
    lengths = []
    for name in sets:
        for path in load_questions(QUESTION_SETS[name])[0]:
            chunks, _, _ = read_chunks(path, 10**6)
            lengths += [passage_length(encoder, c.text) for c in chunks]
            print(f"{path.name}: {len(chunks)} passages", file=sys.stderr)
    return float(np.mean(lengths))


if __name__ == "__main__":
    print(f"mean passage length over dev and dev2: {measure():.1f} engine tokens")
