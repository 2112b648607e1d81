"""Search at 100,000 passages for `bench_rag`: upsert, reopen, hybrid search with the query's
embedding, deleting one file's passages and dropping the collection, on synthetic points
(random unit vectors, each with its scattered sentence vectors, and words drawn from a
printer manual's vocabulary)."""

from __future__ import annotations

import random
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from app.rag.embedder import SentenceEmbedder
from app.rag.index import EdgeIndex, IndexPoint
from tests.bench.rag_synthetic import SENTENCES_PER_CHUNK, WORDS, point_id, sentence_vectors


def search_latency(home: Path, embedder: SentenceEmbedder, n: int = 100_000) -> dict[str, Any]:
    import numpy as np

    rng = random.Random(1)
    gen = np.random.default_rng(1)
    folder = home / "idx"
    index = EdgeIndex(folder, 384, hnsw_threshold=None)  # exact: HNSW has its own bench
    t = time.perf_counter()
    for start in range(0, n, 2000):
        stop = min(n, start + 2000)
        vectors = gen.standard_normal((stop - start, 384), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        points = [
            IndexPoint(
                point_id(str(i)),
                vectors[i - start].tolist(),
                " ".join(rng.choices(WORDS, k=40)) + f" doc{i}",
                {"source": f"s{i % 500}", "hash": "h"},
                sentence_vectors(gen, vectors[i - start], SENTENCES_PER_CHUNK),
            )
            for i in range(start, stop)
        ]
        index.upsert(points)
    index.flush()
    upsert = time.perf_counter() - t
    index.close()
    t = time.perf_counter()
    index = EdgeIndex(folder, 384, hnsw_threshold=None)  # exact: HNSW has its own bench
    reopen = time.perf_counter() - t
    queries = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} nozzle cleaning {i}" for i in range(110)]
    total, embed, search = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        vector = embedder.embed([q])[0]
        t1 = time.perf_counter()
        index.search(vector, q, 10)
        t2 = time.perf_counter()
        embed.append((t1 - t0) * 1000)
        search.append((t2 - t1) * 1000)
        total.append((t2 - t0) * 1000)
    # Deleting one file's passages (n / 500 points, by the keyword payload index) and
    # then the whole collection's folder, as `carrel docs remove` and dropping do.
    before = index.count()
    t = time.perf_counter()
    index.delete_source("s7")
    index.flush()
    delete_file = time.perf_counter() - t
    assert index.count() == before - n // 500
    index.close()
    t = time.perf_counter()
    shutil.rmtree(folder)
    drop = time.perf_counter() - t
    total, embed, search = total[10:], embed[10:], search[10:]  # the first are warm-up
    return {
        "points": n,
        "queries": len(total),
        "upsert_points_per_s": round(n / upsert),
        "reopen_s": round(reopen, 3),
        "hybrid_top10_with_embedding_p50_ms": round(statistics.median(total), 1),
        "hybrid_top10_with_embedding_p95_ms": p95(total),
        "query_embedding_p50_ms": round(statistics.median(embed), 1),
        "query_embedding_p95_ms": p95(embed),
        "hybrid_search_only_p50_ms": round(statistics.median(search), 1),
        "hybrid_search_only_p95_ms": p95(search),
        "delete_one_file_s": round(delete_file, 3),
        "deleted_points": n // 500,
        "drop_collection_s": round(drop, 3),
    }


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 1)
