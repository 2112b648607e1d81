"""Search methods scored from one ingest, for `bench_rag_eval --candidates`: each is named
here before it is run on a development set, and every candidate ranks the same candidate
lists per question, so the figures differ by the method alone.

- `fusion_candidates`: how the dense and BM25 rankings are fused (chosen on the first
  development set: `FUSION_WEIGHTS`).
- `dense_candidates`: how the dense side scores a passage from its two kinds of vector,
  the passage vector's cosine and its best sentence's (`RESCORE`). Shipped: the best
  sentence alone. Named before the fifth round of issue 16 ran them: a blend
  `alpha * passage + (1 - alpha) * best sentence` for alpha 0 (shipped), 0.25, 0.5, 0.75
  and 1 (the passage vector alone), and the larger of the two. The rule, also named before:
  a candidate replaces the shipped one only if it is picked on either development set
  (the highest hybrid MRR@10, ahead of the shipped by more than 0.01 and losing no hit@5
  question there); the evaluation set then only reports.
- How a `late` collection embeds passages of table rows (`app.rag.passages.RECORD_WAYS`,
  `bench_rag_eval --records`, one collection each): "late" (until then: like any passage),
  "sentences" (cut as `represent` cuts text) and "rows" (each row whole, short ones
  joined). Named before the sixth round of issue 16 ran them, with the rule: picked on the
  tabular set (`tests/rag/tab`, 42 questions), a way replaces "late" only if its hybrid
  MRR@10 is higher by more than 0.015 (the noise floor measured in the fifth round) and it
  loses no hit@5 question; of two such within 0.015 of each other, the one with less
  ingest CPU. Reported on dev2: if the pick's hybrid MRR@10 on dev2's 7 CSV questions is
  below "late"'s, nothing ships (the two sets disagree); dev2's other questions must score
  exactly as before (their passages are not rows). Outcome: "sentences" picked and shipped
  (BENCHMARKS.md, issue 16, sixth round; dev2's e-mail questions moved by 0.012 MRR@10).
- The fusions again, on the tabular set (sixth round), named before running there: a
  fusion replaces the shipped one only if it leads on the tabular set (hybrid MRR@10 ahead
  by more than 0.015, no hit@5 question lost there) and loses nothing beyond the noise
  floor on dev and dev2 (MRR@10 not lower by more than 0.015, at most one hit@5 question
  fewer on each); the evaluation set reports. Outcome: alpha 0.5 led on the tabular set
  and lost beyond the floor on dev2 and dev; nothing changed.
- No overlap between passages of table rows (`Chunker.record_overlap`,
  `bench_rag_eval --record-overlap`): the 30 carried words repeat four or five whole rows
  in the next passage, while a row needs no context from the rows before it. A speed
  change, so it must keep retrieval (sixth round, named before running): it ships if on
  the tabular set its hybrid MRR@10 is not lower by more than 0.015 and no hit@5 question
  is lost, and on dev2's 7 CSV questions no hit@5 question is lost either; its passages
  and CPU time are reported.
  Outcome: two hit@5 questions lost on the tabular set; not shipped.
- The installed chat models as rerankers (seventh round): candidates and rule are in
  `tests.bench.bench_rag_llm_rerank`'s docstring, written before any set ran.
  Outcome: both far below the fusion's order on dev (MRR@10 0.438 and 0.437 against
  0.769); neither picked.
- No overlap between passages under the shipped `late` representation (seventh round,
  `bench_rag_eval --overlap 0,30`): the second round rejected it under `passage` (dev2
  hit@1 -5 questions); `late` embeds each passage's sentences inside the whole passage,
  which may make the carried words less needed, and they are ~16 % of the word pieces. A
  speed change, so it must keep retrieval; named before running: it ships if on dev2 (the
  pick) its hybrid MRR@10 is not lower than overlap 30's by more than 0.015 and no hit@5
  question is lost, and on dev (report) MRR@10 is not lower by more than 0.015 with at
  most one hit@5 question fewer; the evaluation set then reports.
  Outcome: dev2 MRR@10 0.821 against 0.863, one hit@5 question fewer; not shipped.
- A smaller network: MiniLM's first 5 or 4 of its 6 layers, no retraining
  (`bench_rag_eval --embedder minilm,minilm-l5,minilm-l4 --runtime fp32`, seventh round).
  The embedder is ~94 % of an ingest and its time is proportional to its layers, so 4
  layers would be ~1.5x the shipped speed (enough for 3x) and 5 layers ~1.2x. Named before
  running, all on torch fp32 so that only the layers differ: the fewest layers whose hybrid
  MRR@10 on dev2 (the pick) is not lower than the six layers' by more than 0.015 with no
  hit@5 question lost; then dev reports by the same bar, and only if both pass would it be
  exported to onnxruntime int8 and timed; the evaluation set reports.
  Outcome: far below at the pick (dev2 hybrid MRR@10 0.866 with six layers, 0.615 with
  five, 0.524 with four); not shipped, dev not run.
- Dense vectors deferred to the search (eighth round, `deferred_candidates`): the ingest
  would store passages and their BM25 vectors only (the embedder is ~94 % of its time),
  and a search would embed, as `late` does at ingest, only the BM25 top K passages that
  have no vectors yet (keeping them), score those K by the shipped dense scoring (the best
  sentence) and fuse them with BM25's top `PREFETCH` as shipped; a background pass would
  fill in the rest while the collection serves. Simulated here from one shipped ingest
  (a `late` passage's vectors are the same whenever they are made): the dense side may
  rank only BM25's top K instead of the whole collection. Named before running, K in
  (30, 50, 100) (each K costs ~K passages of embedding per search, ~1 s for 30 here):
  the smallest K whose hybrid MRR@10 on dev2 (the pick) is not lower than the shipped
  search's by more than 0.015 with no hit@5 question lost; dev reports by the second
  round's bar (MRR@10 not lower by more than 0.015, at most one hit@5 question fewer);
  the evaluation set and the tabular set only report. Only if dev2 and dev both pass is it
  built into the app (ingest time without the embedder then measured against the pipeline
  before issue 16, and the search's added cost at K). BM25's recall at each K (a gold
  passage in its top K) is reported beside.
  Added before any set ran: the sets are small (dev2 ~900 passages), where BM25's top 100
  is a tenth of the collection, and a person's folder is far larger. So the pick and the
  reports are made on a pooled collection: each set's questions asked of its own documents
  plus the other development sets' as distractors (`bench_rag_eval --distractors`: dev2's
  over dev2 + dev + tab, dev's over dev + dev2 + tab, the evaluation set's over eval +
  dev + dev2 + tab); the set alone is reported beside, not used to pick.
  Outcome: fails at the pick (dev2 over 4,144 pooled passages: shipped 0.763 / 0.921 /
  0.833, K=100 0.711 / 0.882 / 0.791 with three hit@5 questions lost; K=30 and 50 lower
  still; BM25's recall at 100 is 0.921, so the dense side cannot reach what BM25 misses);
  not built, dev not run.
- onnxruntime's batch size (eighth round, on a new machine: an Intel Xeon with AVX-512
  VNNI and AMX, where onnxruntime runs MiniLM ~1.9x faster than on the AMD EPYC of the
  earlier rounds). A profile of one batch of 32 x 200 tokens there: QAttention 43 %, the
  int8 MatMuls 24 %, SkipLayerNormalization 19 %, BiasGelu 11 %: the element-wise ops are
  a third, and a scratch timing of 2 threads on random tokens gave 16,816 tokens/s in
  batches of 32 x 256 against 21,074 in 4 x 256 (the activations of a smaller batch stay
  in the cache). A speed change (`SentenceEmbedder.onnx_batch_size`; torch keeps 32);
  named before running, candidates 32 (shipped), 16, 8 and 4: among those that keep
  retrieval on dev2 (hybrid MRR@10 not lower than 32's by more than 0.015, no hit@5
  question lost; batches change the int8 activations' scales, which are per batch) and on
  dev (the second round's bar: MRR@10 within 0.015, at most one hit@5 question fewer), the
  one with the least ingest CPU on the speed bench's files (`bench_rag --only speed`,
  interleaved rounds) ships if it saves more than 5 %; tab and the evaluation set report.
  Outcome: 4 shipped (dev2 and dev kept, 25 % less CPU than 32; 8 lost a hit@5 question on
  dev2). But on the tabular set's files, whose rows are embedded as short texts, calls of
  4 were no faster than 32 (21.5 against 20.2 s in the first round of the speed run):
  four short rows make a call too small to pay for itself.
- Calls bounded by tokens instead of texts (eighth round, named after the outcome above and
  before running): a call takes texts, shortest first, while their padded size stays
  within 1,024 tokens (four texts of 256) and at most 32 texts, so long passages go four to
  a call and short rows up to 32. It replaces calls of 4 if, on the tabular set's files
  (`bench_rag --only speed --files-of tab`), it takes more than 5 % less ingest CPU, on the
  speed bench's files it is not slower by more than 5 %, and retrieval holds against calls
  of 4 on the tabular set and on dev2 (hybrid MRR@10 within 0.015, no hit@5 question
  lost); dev and the evaluation set report.
  Outcome: fails on retrieval, so its speed was not run to the end: on the tabular set one
  hit@5 question lost and MRR@10 0.584 against 0.604 (dev2 kept: 0.789 / 0.947 / 0.864
  against 0.803 / 0.947 / 0.869, with 25 % less ingest CPU, 17.3 against 23.2 s). Rows
  sharing a call share its int8 activations' scale. Not shipped; the switch stays
  (`app.rag.embedder.ONNX_CALL_TOKENS`).
- torch in bfloat16 on a processor with AMX (eighth round, runtime "bf16", opt-in). A
  scratch timing on this session's Xeon, random tokens, 2 threads, 256-token texts: torch
  fp32 8,261-9,158 tokens/s, torch under bf16 autocast 24,846-29,430 (its matrix products
  on AMX tiles), onnxruntime int8 21,074 at its best call size; on 256 dev passages bf16's
  vectors are closer to fp32's (cosine median 1.0000, lowest 0.9999) than int8's (0.9934,
  0.9762). Named before running: it qualifies if on dev2 (the pick) its hybrid MRR@10 is
  not lower than the shipped onnxruntime int8's by more than 0.015 with no hit@5 question
  lost, dev keeps the second round's bar, and on the speed bench's files it takes more
  than 5 % less ingest CPU; tab and the evaluation set report. Qualifying does not ship it
  as "auto" on such processors this round: torch's import makes a fresh Carrel's first
  search vector ~5 s instead of 0.4, which needs its own answer first.
  Outcome: qualifies (dev2 0.789 / 0.947 / 0.866, dev one hit@5 fewer, 21 % less CPU);
  opt-in (`CARREL_EMBEDDER_RUNTIME=bf16`), first query vector 3.79 s against 0.22.
- bf16 passages with onnxruntime int8 queries (eighth round, `bench_rag_eval --runtime bf16
  --query-runtime onnx-int8`): the answer that would let bf16 be the default on AMX
  processors while a fresh Carrel's first search stays on onnxruntime. Named before
  running: the pair qualifies if on dev2 (the pick) its hybrid MRR@10 is not lower than the
  shipped (onnxruntime int8 on both sides) by more than 0.015 with no hit@5 question lost,
  and dev keeps the second round's bar; tab and the evaluation set report. Building it
  into the app is a later round's.
  Outcome: passes the pick (dev2 0.776 / 0.947 / 0.859 against 0.803 / 0.947 / 0.869) but
  fails dev's bar (0.627 / 0.932 / 0.756 against 0.661 / 0.932 / 0.776: MRR@10 -0.020);
  tab loses a hit@5 question, eval 0.684 / 0.895 / 0.773. Not qualified: bf16 as a default
  would need torch loaded before the first search instead.
- OpenVINO in bfloat16 on a processor with AMX (ninth round, runtime "openvino"): the
  same question as the two above without torch. A scratch timing on this Xeon, 400 dev
  passages, calls of 4, 2 threads: onnxruntime int8 5.06 s, OpenVINO (the fp32 ONNX export,
  inference precision bf16: AMX tiles, fp32 accumulation) 2.86-3.05 s, OpenVINO in fp32
  8.25 s; vectors against torch fp32's lowest cosine 0.99994 (onnxruntime int8's 0.9764);
  the model compiles in 0.23 s and `import openvino` takes 0.13 s. Named before running:
  it becomes "auto" on processors with AMX if on dev2 (the pick) its hybrid MRR@10 is not
  lower than the shipped onnxruntime int8's by more than 0.015 with no hit@5 question lost,
  dev keeps the second round's bar (MRR@10 within 0.015, at most one hit@5 question fewer),
  it takes more than 5 % less ingest CPU on the speed bench's files (interleaved rounds),
  and a fresh process's first query vector takes under 0.5 s; tab and the evaluation set
  report. Processors without AMX keep onnxruntime int8 (OpenVINO in fp32 measured 0.98x
  torch's CPU time on the AVX2 EPYC in the second round).
  Outcome: passes, shipped as "auto" on processors with AMX (`OPENVINO_ON_AMX`). dev2
  0.789 / 0.947 / 0.866 against 0.803 / 0.947 / 0.869; dev 0.661 / 0.915 / 0.769 against
  0.661 / 0.932 / 0.776 (one hit@5 question, within the bar); ingest CPU 1.47x (dev2),
  1.64x (dev) less, and on the speed bench's files 9.3-10.3 s against 14.7-15.1 s (4.72x
  the pipeline before issue 16 by wall clock, onnxruntime int8 2.98x in the same run);
  first query vector 0.33 s (onnxruntime 0.22 s). tab 0.548 / 0.714 / 0.608 (0.604),
  evaluation set 0.684 / 0.895 / 0.773 (0.779).
- Calls bounded by tokens on OpenVINO (ninth round, named after the outcome above and
  before running): the eighth round's token-bound calls (at most 1,024 padded tokens and
  32 texts a call) failed on onnxruntime because rows sharing a call share its int8
  activations' scale; OpenVINO's bf16 has no such scale, so a call's company should not
  move a vector. On the tabular set's files OpenVINO gained least (2.29x the old pipeline,
  calls of four short rows). The same rule as then, against OpenVINO's calls of 4: it
  replaces them on processors with AMX if on the tabular set's files (`bench_rag --only
  speed --files-of tab`) it takes more than 5 % less ingest CPU, on the speed bench's
  files it is not slower by more than 5 %, and retrieval holds on tab and dev2 (hybrid
  MRR@10 within 0.015, no hit@5 question lost); dev and the evaluation set report.
  Outcome: passes, shipped (`app.rag.embedder.OPENVINO_CALL_TOKENS`). tab 0.548 / 0.714 /
  0.608 both ways; dev2 0.789 / 0.947 / 0.864 against 0.866; dev and eval the same figures.
  Ingest CPU on the tabular set's files 21.4-22.0 s against 29.8-31.3 (29 % less; 3.90x
  the old pipeline by wall clock against 2.87x), on the speed bench's files 8.6-9.4
  against 9.6-11.4 s (not slower: 5.82x against 5.19x, a run under load 2.7-3.6).
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


def fusion_candidates(
    docs: Documents, collection: str, questions: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Scores of the fusions considered, named before the development set was run, each
    from the same two candidate lists per question (the dense side's and BM25's top 50, as
    `EdgeIndex.search` takes them): reciprocal rank fusion (k, weights dense:BM25) and
    convex combinations of min-max scaled scores (alpha on the dense side)."""
    index = edge_index(docs, collection)
    lists = []
    for q in questions:
        dense = docs.embedder.embed([q["text"]])[0]
        semantic = index._dense_ranked(dense, PREFETCH, None)
        keyword = index._query(index._bm25.embed_query(q["text"]), SPARSE, PREFETCH, None)
        lists.append((semantic, keyword))
    cite = citations(index, {key for pair in lists for ranking in pair for key, _ in ranking})

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
