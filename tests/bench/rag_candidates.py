"""Search methods scored from one ingest, for `bench_rag_eval --candidates`: each is named
here before it is run on a development set, and every candidate ranks the same candidate
lists per question, so the figures differ by the method alone.

The candidates of issue 16 and the rule each was picked or rejected by, written before
it ran, are in `tests/bench/RULES.md`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from app.citation import Citation
from app.rag.chunker import Chunk
from app.rag.index import DENSE, FUSION_WEIGHTS, PREFETCH, RESCORE, SPARSE, EdgeIndex
from app.rag.represent import best_sentence, fuse, heading_line, sentence_spans
from app.rag.service import Documents
from tests.bench.bench_rag_eval import K, rank, scores

Ranking = list[tuple[str, float]]
Fusion = Callable[[Ranking, Ranking], list[str]]
# Dense scorings: (the passage vector's cosine, the best sentence's) -> score.
Scoring = Callable[[float, float], float]


def edge_index(docs: Documents, collection: str) -> EdgeIndex:
    index = docs.index(collection)
    assert isinstance(index, EdgeIndex)
    return index


def citations(index: EdgeIndex, keys: set[str]) -> Callable[[str], Citation]:
    records = index._shard.retrieve(
        list(keys), with_payload=["source", "page", "page_end", "text"], with_vector=False
    )
    payloads = {str(r.id): dict(r.payload or {}) for r in records}

    def cite(key: str) -> Citation:
        p = payloads[key]
        return Citation(
            str(p["source"]), p.get("page"), p.get("page_end"), text=str(p.get("text", ""))
        )

    return cite


def fusion_lists(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> tuple[list[tuple[Ranking, Ranking]], Callable[[str], Citation]]:
    """Per question, the two lists a hybrid search fuses (the dense side's and BM25's top
    50, as `EdgeIndex.search` takes them), and the citations of every passage in them."""
    index = edge_index(docs, collection)
    lists = []
    for q in questions:
        dense = docs.embedder.embed([q["text"]])[0]
        semantic = index._dense_ranked(dense, PREFETCH, None)
        keyword = index._query(index._bm25.embed_query(q["text"]), SPARSE, PREFETCH, None)
        lists.append((semantic, keyword))
    cite = citations(index, {key for pair in lists for ranking in pair for key, _ in ranking})
    return lists, cite


def fusion_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Scores of the fusions considered, named before the development set was run, each
    from the same two candidate lists per question (the dense side's and BM25's top 50, as
    `EdgeIndex.search` takes them): reciprocal rank fusion (k, weights dense:BM25) and
    convex combinations of min-max scaled scores (alpha on the dense side)."""
    lists, cite = fusion_lists(docs, collection, questions)

    def rrf(k: int, weights: tuple[float, float]) -> Fusion:
        def fused(semantic: Ranking, keyword: Ranking) -> list[str]:
            scores: dict[str, float] = {}
            for ranking, weight in zip((semantic, keyword), weights, strict=True):
                for r, (key, _) in enumerate(ranking, 1):
                    scores[key] = scores.get(key, 0.0) + weight / (k + r)
            return sorted(scores, key=lambda key: -scores[key])

        return fused

    def convex(alpha: float) -> Fusion:
        return lambda semantic, keyword: [
            key for key, _ in fuse([semantic, keyword], (alpha, 1 - alpha))
        ]

    candidates: dict[str, Fusion] = {
        "rrf k=60 1:1 (before)": rrf(60, (1.0, 1.0)),
        "rrf k=60 1.5:1": rrf(60, (1.5, 1.0)),
        "rrf k=60 2:1": rrf(60, (2.0, 1.0)),
        "rrf k=20 1:1": rrf(20, (1.0, 1.0)),
        **{f"convex alpha={a}": convex(a) for a in (0.5, 0.6, 0.7, 0.8)},
    }
    out = {}
    for name, fusion in candidates.items():
        ranks = [
            rank([cite(key) for key in fusion(semantic, keyword)[:K]], q)
            for (semantic, keyword), q in zip(lists, questions, strict=True)
        ]
        out[name] = scores(ranks)
    return out


def dense_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, dict[str, dict[str, float]]]:
    """Hybrid and dense-only scores of each dense scoring in the module's docstring, from
    the same candidates per question: the passage vector's top `RESCORE` with both of
    their scores (`EdgeIndex._dense_scores`, what the shipped ranking re-ranks) and BM25's
    top `PREFETCH`, fused as shipped."""
    index = edge_index(docs, collection)
    pairs = []
    for q in questions:
        both = index._dense_scores(docs.embedder.embed([q["text"]])[0], RESCORE, None)
        keyword = index._query(index._bm25.embed_query(q["text"]), SPARSE, PREFETCH, None)
        pairs.append((both, keyword))
    keys = {key for both, _ in pairs for key, *_ in both}
    cite = citations(index, keys | {key for _, keyword in pairs for key, _ in keyword})

    def blend(alpha: float) -> Scoring:
        return lambda whole, best: alpha * whole + (1 - alpha) * best

    candidates: dict[str, Scoring] = {
        "best sentence (shipped)": blend(0.0),
        **{f"blend alpha={a}": blend(a) for a in (0.25, 0.5, 0.75)},
        "passage vector": blend(1.0),
        "max of the two": max,
    }
    out = {}
    for name, scoring in candidates.items():
        hybrid, dense_only = [], []
        for (both, keyword), q in zip(pairs, questions, strict=True):
            semantic = sorted(((k, scoring(w, b)) for k, w, b in both), key=lambda x: -x[1])
            semantic = semantic[:PREFETCH]
            dense_only.append(rank([cite(k) for k, _ in semantic[:K]], q))
            fused = fuse([semantic, keyword], FUSION_WEIGHTS)[:K]
            hybrid.append(rank([cite(k) for k, _ in fused], q))
        out[name] = {"hybrid": scores(hybrid), "dense": scores(dense_only)}
    return out


DEFERRED_DEPTHS = (30, 50, 100)


def deferred_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, Any]:
    """The search with dense vectors deferred to it (the module's docstring), at each K of
    `DEFERRED_DEPTHS`, beside the shipped hybrid search on the same collection; and what
    embedding the candidates costs a search (`late`'s one pass per passage, timed on the
    first 20 questions)."""
    index = edge_index(docs, collection)
    depth = max(DEFERRED_DEPTHS)
    rows = []
    for q in questions:
        query = np.asarray(docs.embedder.embed([q["text"]])[0], dtype=np.float32)
        keyword = index._query(index._bm25.embed_query(q["text"]), SPARSE, depth, None)
        keys = [key for key, _ in keyword]
        stored = index.sentences.get(keys)
        dense = {key: best_sentence(query, stored[key]) for key in keys if key in stored}
        alone = [key for key in keys if key not in dense]  # no sentence vectors: the mean's
        for r in index._shard.retrieve(alone, with_payload=False, with_vector=True):
            dense[str(r.id)] = float(np.asarray(_mean_vector(r.vector)) @ query)
        rows.append((keyword, dense))
    cite = citations(index, {key for keyword, _ in rows for key, _ in keyword})
    shipped = [rank(docs.search(q["text"], collection, K), q) for q in questions]
    out: dict[str, Any] = {"shipped": scores(shipped)}
    for k in DEFERRED_DEPTHS:
        hybrid, dense_only, first = [], [], []
        for (keyword, dense), q in zip(rows, questions, strict=True):
            pool = keyword[:k]
            semantic = sorted(((key, dense[key]) for key, _ in pool), key=lambda x: -x[1])
            semantic = semantic[:PREFETCH]
            fused = fuse([semantic, keyword[:PREFETCH]], FUSION_WEIGHTS)[:K]
            hybrid.append(rank([cite(key) for key, _ in fused], q))
            dense_only.append(rank([cite(key) for key, _ in semantic[:K]], q))
            first.append(rank([cite(key) for key, _ in pool], q))
        out[f"K={k}"] = {
            "hybrid": scores(hybrid),
            "dense among the K": scores(dense_only),
            "bm25_recall_at_K": round(sum(r is not None for r in first) / len(first), 3),
            "hit5_lost_vs_shipped": sum(
                1
                for s, d in zip(shipped, hybrid, strict=True)
                if s is not None and s <= 5 and (d is None or d > 5)
            ),
            "hit5_gained_vs_shipped": sum(
                1
                for s, d in zip(shipped, hybrid, strict=True)
                if (s is None or s > 5) and d is not None and d <= 5
            ),
        }
    out["search_cost_ms_p50"] = _candidate_cost(docs, index, rows[:20])
    return out


def _mean_vector(vector: Any) -> list[float]:
    if isinstance(vector, dict):  # named vectors: the dense one
        return list(vector[DENSE])
    return list(vector)


def _candidate_cost(
    docs: Documents, index: EdgeIndex, rows: list[tuple[Ranking, dict[str, float]]]
) -> dict[str, float]:
    """Milliseconds, p50 over the questions, to embed each question's BM25 top K passages
    as `late` embeds a passage (its heading line and text in one pass, its sentences
    pooled from it)."""
    spans_of = docs.embedder.embed_spans  # type: ignore[attr-defined]
    out = {}
    for k in DEFERRED_DEPTHS:
        times = []
        for keyword, _ in rows:
            records = index._shard.retrieve(
                [key for key, _ in keyword[:k]], with_payload=["text", "heading"], with_vector=False
            )
            chunks = [
                Chunk(str(p.get("text", "")), None, None, tuple(p.get("heading") or ()), 0, 0, 0)
                for p in (dict(r.payload or {}) for r in records)
            ]
            heads = [heading_line(c) for c in chunks]
            texts = [h + c.text for h, c in zip(heads, chunks, strict=True)]
            spans = [
                [(a + len(h), b + len(h)) for a, b in sentence_spans(c.text)]
                for h, c in zip(heads, chunks, strict=True)
            ]
            t = time.perf_counter()
            spans_of(texts, spans)
            times.append((time.perf_counter() - t) * 1000)
        out[f"K={k}"] = round(statistics.median(times))
    return out


def from_zero(rankings: list[Ranking], weights: tuple[float, float]) -> list[str]:
    """The convex fusion with each ranking's scores divided by its highest (the scale's
    floor the score's own, 0, not the list's lowest; a score below 0 counts 0)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        high = max((score for _, score in ranking), default=0.0)
        for key, score in ranking:
            scaled = max(score, 0.0) / high if high > 0 else 1.0
            fused[key] = fused.get(key, 0.0) + weight * scaled
    return sorted(fused, key=lambda key: -fused[key])


def scaling_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The twenty-third round's candidates (`tests/bench/RULES.md`): the shipped fusion
    and the scores scaled from zero at each alpha, from the same two lists per question;
    with each question's rank, so sets can be pooled."""
    lists, cite = fusion_lists(docs, collection, questions)
    candidates: dict[str, Callable[[list[Ranking]], list[str]]] = {
        "min-max alpha=0.6 (shipped)": lambda rs: [k for k, _ in fuse(rs, FUSION_WEIGHTS)],
        **{
            f"from zero alpha={a}": (lambda rs, a=a: from_zero(rs, (a, 1 - a)))
            for a in (0.5, 0.6, 0.7, 0.8)
        },
    }
    out: dict[str, dict[str, Any]] = {}
    for name, fusion in candidates.items():
        ranks = [
            rank([cite(key) for key in fusion([semantic, keyword])[:K]], q)
            for (semantic, keyword), q in zip(lists, questions, strict=True)
        ]
        out[name] = {**scores(ranks), "ranks": ranks}
    return out
