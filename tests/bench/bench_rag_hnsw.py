"""Exact search against HNSW in the embedded shard, by collection size; picks the threshold
past which `EdgeIndex` builds HNSW in the background (see `app.rag.hnsw`).

python -m tests.bench.bench_rag_hnsw [--sizes 10000,25000,50000,100000,200000] [--queries 100]
                                     [--efs 64,128,256,512] [--no-embed] [--steps 4]

Per size, in one process: random unit 384-d float16 passage vectors, each with
`SENTENCES_PER_CHUNK` sentence vectors (as `tests.bench.rag_synthetic` makes them) and BM25 of
a window of real text (the Debian reference and the Gutenprint manual, when installed; the
bench's word list otherwise). Queries are three consecutive words of that text, embedded
by the real model (`--no-embed`: random unit vectors, no embedding time).

- exact: dense top-10 (`exact=True`), hybrid top-10 (`EdgeIndex.search`, exact before any
  build), and hybrid with the query embedding;
- during the build (the index's own background build, started by a flush): one query
  every 0.2 s, as a person typing would send them, embedding included;
- after: dense top-10 p50/p95 and recall@10 against exact for each ef, and hybrid with
  the index's default ef (latency, top-10 overlap and same top hit as exact);
- `--steps N`: the same points again, built as an ingest builds them (inside `bulk`, a
  graph per size/N points): the time of it all, dense recall@10 and p95, hybrid p95, and
  hybrid with the embedding after a reopen (the first queries map the cold pages in).

Random vectors in 384 dimensions are the hard case for a graph (no low-dimensional
structure): recall on real embeddings is higher at the same ef, so the ef chosen here is
conservative. Prints one JSON summary; the load average before and after is in it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np
import qdrant_edge as qe

import app.rag.hnsw as hnsw_module
from app.rag.hnsw import HNSW_EF
from app.rag.index import DENSE, EdgeIndex
from tests.bench.bench_rag_hnsw_again import graphs
from tests.bench.rag_search import p95
from tests.bench.rag_synthetic import (
    DIM,
    SENTENCES_PER_CHUNK,
    Vectors,
    build,
    corpus_sentences,
    corpus_vectors,
    corpus_words,
    random_vectors,
)


def make_queries(words: list[str], count: int) -> list[str]:
    rng = random.Random(2)
    out = []
    for _ in range(count):
        at = rng.randrange(len(words) - 3)
        out.append(" ".join(words[at : at + 3]))
    return out


def dense_top10(index: EdgeIndex, vector: list[float], params: qe.SearchParams) -> list[str]:
    points = index._shard.query(
        qe.QueryRequest(limit=10, query=qe.Query.Nearest(vector, using=DENSE), params=params)
    )
    return [str(p.id) for p in points]


def dense_runs(
    index: EdgeIndex, vectors: list[list[float]], params: qe.SearchParams
) -> tuple[list[list[str]], list[float]]:
    """Each vector's dense top-10 ids, and each search's milliseconds."""
    runs = [timed(lambda v=v: dense_top10(index, v, params)) for v in vectors]
    return [ids for ids, _ in runs], [ms for _, ms in runs]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000


def stats(ms: list[float], skip: int = 5) -> dict[str, float]:
    ms = ms[skip:] if len(ms) > 2 * skip else ms
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": p95(ms) if len(ms) > 1 else ms[0]}


def rss_mb() -> dict[str, float]:
    """This process's resident memory: anonymous (the engine's heap and ours, the model's)
    and file-backed (mapped shard files, which the kernel can take back)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def one_size(
    home: Path,
    n: int,
    words: list[str],
    texts: list[str],
    vectors: list[list[float]],
    embed: Callable[[str], Any] | None,
    efs: list[int],
    make: Vectors,
    steps: int = 1,
) -> dict[str, Any]:
    folder = home / f"n{n}"
    index, rate = build(folder, n, words, make)
    out: dict[str, Any] = {"points": n, "upsert_points_per_s": round(rate), "rss_mb": rss_mb()}

    truth, ms = dense_runs(index, vectors, qe.SearchParams(exact=True))
    out["exact_dense"] = stats(ms)

    hybrid_truth, ms = [], []
    for v, q in zip(vectors, texts, strict=True):
        hits, t = timed(lambda v=v, q=q: index.search(v, q, 10))
        hybrid_truth.append((hits[0].score if hits else 0.0, [h.id for h in hits]))
        ms.append(t)
    out["exact_hybrid"] = stats(ms)
    if embed is not None:
        ms = []
        for v, q in zip(vectors, texts, strict=True):
            _, t = timed(lambda v=v, q=q: (embed(q), index.search(v, q, 10)))
            ms.append(t)
        out["exact_hybrid_with_embedding"] = stats(ms)

    # The index's own background build, as a flush past the threshold starts it.
    index.hnsw_threshold = 1
    t0 = time.perf_counter()
    index.flush()
    during, i = [], 0
    while not index.wait_indexed(0.2):
        v, q = vectors[i % len(vectors)], texts[i % len(texts)]
        _, t = timed(lambda v=v, q=q: (embed(q) if embed else None, index.search(v, q, 10)))
        during.append(t)
        i += 1
    build_s = time.perf_counter() - t0
    out["build"] = {
        "wall_s": round(build_s, 1),
        **{k: round(x, 2) for k, x in index.last_build.items()},
        "hnsw_points": index.hnsw_points,
    }
    assert index.hnsw_points == n, index.hnsw_points
    label = "hybrid_with_embedding" if embed else "hybrid"
    if during:
        out[f"{label}_during_build"] = {
            **stats(during, skip=0),
            "max_ms": round(max(during), 1),
            "queries": len(during),
        }

    for v in vectors[:3]:  # the swap's reopen leaves cold pages: touch them first
        index.search(v, "warm up", 10)
    out["hnsw_dense"] = {}
    for ef in efs:
        found, ms = dense_runs(index, vectors, qe.SearchParams(hnsw_ef=ef))
        out["hnsw_dense"][f"ef{ef}"] = {**stats(ms), "recall_at_10": mean_recall(found, truth)}

    ms, overlap, top1 = [], [], []
    for v, q, (score, want) in zip(vectors, texts, hybrid_truth, strict=True):
        hits, t = timed(lambda v=v, q=q: index.search(v, q, 10))
        ms.append(t)
        ids = [h.id for h in hits]
        overlap.append(len(set(ids) & set(want)) / max(1, len(want)))
        # RRF ties are common (rank 1 + rank 5 = rank 5 + rank 1): a tie counts as the same
        top1.append(bool(hits) and (ids[0] == want[0] or abs(hits[0].score - score) < 1e-9))
    out[f"hnsw_hybrid_ef{HNSW_EF}"] = {
        **stats(ms),
        "top10_overlap_with_exact": round(statistics.mean(overlap), 3),
        "same_top_hit": round(statistics.mean(top1), 3),
    }
    if embed is not None:
        ms = []
        for v, q in zip(vectors, texts, strict=True):
            _, t = timed(lambda v=v, q=q: (embed(q), index.search(v, q, 10)))
            ms.append(t)
        out[f"hnsw_hybrid_with_embedding_ef{HNSW_EF}"] = stats(ms)
    out["rss_mb_after"] = rss_mb()
    index.close()
    shutil.rmtree(folder, ignore_errors=True)
    if steps > 1:
        out["in_steps"] = in_steps(home / f"s{n}", n, n // steps, words, make, texts, vectors)
        out["in_steps"]["recall_at_10"] = mean_recall(out["in_steps"].pop("ids"), truth)
        if embed is not None:
            out["in_steps"]["hybrid_with_embedding"] = stepped_hybrid(
                home / f"s{n}", texts, vectors, embed
            )
        shutil.rmtree(home / f"s{n}", ignore_errors=True)
    return out


def in_steps(
    folder: Path,
    n: int,
    step: int,
    words: list[str],
    make: Vectors,
    texts: list[str],
    vectors: list[list[float]],
) -> dict[str, Any]:
    """The same points built as an ingest builds them: a graph per `step` points."""
    t = time.perf_counter()
    index, _ = build(folder, n, words, make, step)
    wall = time.perf_counter() - t
    for v in vectors[:3]:
        index.search(v, "warm up", 10)
    ids, ms = dense_runs(index, vectors, qe.SearchParams(hnsw_ef=HNSW_EF))
    hybrid = [
        timed(lambda v=v, q=q: index.search(v, q, 10))[1]
        for v, q in zip(vectors, texts, strict=True)
    ]
    out = {
        "step": step,
        "ingest_and_builds_s": round(wall, 1),
        "hnsw_points": index.hnsw_points,
        "graph_segments": graphs(folder),
        f"dense_ef{HNSW_EF}": stats(ms),
        f"hybrid_ef{HNSW_EF}": stats(hybrid),
        "ids": ids,
    }
    index.close()
    return out


def stepped_hybrid(
    folder: Path, texts: list[str], vectors: list[list[float]], embed: Callable[[str], Any]
) -> dict[str, dict[str, float]]:
    """Hybrid with the query embedding on the stepped shard, reopened (pages cold)."""
    index = EdgeIndex(folder, DIM, hnsw_threshold=None)
    ms = [
        timed(lambda v=v, q=q: (embed(q), index.search(v, q, 10)))[1]
        for v, q in zip(vectors, texts, strict=True)
    ]
    index.close()
    return {"all_after_reopen": stats(ms, skip=0), "after_the_first_5": stats(ms)}


def mean_recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return round(
        statistics.mean(len(set(f) & set(w)) / len(w) for f, w in zip(found, truth, strict=True)), 3
    )


def _embed_one(embedder: Any) -> Callable[[str], Any]:
    def embed(q: str) -> Any:
        return embedder.embed([q])

    return embed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,25000,50000,100000,200000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--efs", default="64,128,256,512")
    parser.add_argument("--sentences", type=int, default=SENTENCES_PER_CHUNK)
    parser.add_argument("--no-embed", action="store_true")
    parser.add_argument(
        "--vectors",
        choices=["random", "corpus"],
        default="random",
        help="random unit vectors, or passages of real sentence vectors (needs the model)",
    )
    parser.add_argument("--corpus-sentences", type=int, default=4000)
    parser.add_argument("--build-threads", type=int, default=hnsw_module.BUILD_THREADS)
    parser.add_argument(
        "--steps", type=int, default=1, help="also build each size in this many steps"
    )
    args = parser.parse_args()
    hnsw_module.BUILD_THREADS = args.build_threads  # passed to the build's process
    sizes = [int(x) for x in args.sizes.split(",")]
    efs = [int(x) for x in args.efs.split(",")]

    words = corpus_words()
    texts = make_queries(words, args.queries + 5)  # the first 5 are warm-up
    embed: Callable[[str], Any] | None = None
    if args.no_embed:
        gen = np.random.default_rng(3)
        rows = gen.standard_normal((len(texts), DIM), dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        vectors: list[list[float]] = rows.tolist()
    else:
        from app.rag.embedder import SentenceEmbedder

        embedder = SentenceEmbedder()
        embedder.load()
        embedder.embed(["warm up"])
        vectors = [embedder.embed([q])[0] for q in texts]
        embed = _embed_one(embedder)
    make = random_vectors(args.sentences)
    if args.vectors == "corpus":
        assert not args.no_embed, "--vectors corpus embeds the manuals' sentences"
        t = time.perf_counter()
        texts_of_corpus = corpus_sentences(args.corpus_sentences)
        embedded = np.asarray(embedder.embed(texts_of_corpus), dtype=np.float32)
        make = corpus_vectors(embedded, args.sentences)
        corpus_s = time.perf_counter() - t

    out: dict[str, Any] = {
        "load_average_start": os.getloadavg(),
        "cpus": os.cpu_count(),
        "queries": args.queries,
        "sentences_per_point": args.sentences,
        "build_threads": args.build_threads or os.cpu_count(),
        "corpus_words": len(words),
        "vectors": args.vectors,
        "sizes": [],
    }
    if args.vectors == "corpus":
        out["corpus_sentences_embedded"] = len(embedded)
        out["corpus_embedding_s"] = round(corpus_s, 1)
    if embed is not None:
        ms = [timed(lambda q=q: embed(q))[1] for q in texts]
        out["query_embedding"] = stats(ms)
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            result = one_size(Path(tmp), n, words, texts, vectors, embed, efs, make, args.steps)
            out["sizes"].append(result)
            print(json.dumps(result), flush=True)  # progress, one line per size
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
