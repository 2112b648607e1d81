"""Document benchmarks: ingest overhead vs the raw embedder, re-ingest, search latency.

python -m tests.bench.bench_rag   (needs apt package gutenprint-doc for the real PDF)
Prints one JSON summary. Ratios are against references measured in the same run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from app.config import Paths
from app.rag.chunker import Chunker
from app.rag.embedder import SentenceEmbedder
from app.rag.index import EdgeIndex, IndexPoint
from app.rag.ingest import _embed_text
from app.rag.loaders import load
from app.rag.service import Documents
from app.store import Store

PDF = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")
WORDS = [
    "printer",
    "ink",
    "paper",
    "colour",
    "driver",
    "resolution",
    "margin",
    "tray",
    "nozzle",
    "head",
    "cyan",
]


def ingest_overhead(home: Path, embedder: SentenceEmbedder) -> dict[str, float]:
    chunks = list(Chunker().chunks(load(PDF)))
    texts = [_embed_text(c) for c in chunks]
    t = time.perf_counter()
    for i in range(0, len(texts), 64):
        embedder.embed(texts[i : i + 64])
    raw = time.perf_counter() - t
    paths = Paths.under(home / "a").ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    docs.index("bench", create=True)
    t = time.perf_counter()
    report = docs.add([PDF], "bench")
    full = time.perf_counter() - t
    docs.close()
    store.close()
    return {
        "chunks": len(chunks),
        "pages": report.pages,
        "raw_embed_chunks_per_s": round(len(chunks) / raw, 2),
        "ingest_chunks_per_s": round(report.chunks / full, 2),
        "ingest_pages_per_s": round(report.pages / full, 2),
        "ratio_vs_raw_embedder": round(raw / full, 3),
    }


def reingest(home: Path, embedder: SentenceEmbedder, n: int = 1000) -> dict[str, float]:
    folder = home / "many"
    folder.mkdir()
    for i in range(n):
        (folder / f"f{i:04}.txt").write_text(f"File {i}: {random.choice(WORDS)}.")
    paths = Paths.under(home / "b").ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    t = time.perf_counter()
    docs.add([folder], "many")
    first = time.perf_counter() - t
    t = time.perf_counter()
    report = docs.add([folder], "many")
    again = time.perf_counter() - t
    assert report.count("unchanged") == n
    docs.close()
    store.close()
    return {"files": n, "first_ingest_s": round(first, 2), "unchanged_reingest_s": round(again, 3)}


def search_latency(home: Path, embedder: SentenceEmbedder, n: int = 100_000) -> dict[str, float]:
    rng = random.Random(1)
    folder = home / "idx"
    index = EdgeIndex(folder, 384)
    t = time.perf_counter()
    for start in range(0, n, 2000):
        points = []
        for i in range(start, min(n, start + 2000)):
            v = [rng.gauss(0, 1) for _ in range(384)]
            text = " ".join(rng.choices(WORDS, k=40)) + f" doc{i}"
            points.append(IndexPoint(str(i), v, text, {"source": f"s{i % 500}", "hash": "h"}))
        index.upsert([IndexPoint(str(_uuid(p.id)), p.vector, p.text, p.payload) for p in points])
    index.flush()
    upsert = time.perf_counter() - t
    index.close()
    t = time.perf_counter()
    index = EdgeIndex(folder, 384)
    reopen = time.perf_counter() - t
    queries = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} nozzle cleaning" for _ in range(60)]
    timings = []
    for q in queries:
        t = time.perf_counter()
        index.search(embedder.embed([q])[0], q, 10)
        timings.append((time.perf_counter() - t) * 1000)
    timings = timings[10:]
    embed_ms = []
    for q in queries[:20]:
        t = time.perf_counter()
        embedder.embed([q])
        embed_ms.append((time.perf_counter() - t) * 1000)
    index.close()
    return {
        "points": n,
        "upsert_points_per_s": round(n / upsert),
        "reopen_s": round(reopen, 3),
        "hybrid_top10_with_embedding_p50_ms": round(statistics.median(timings), 1),
        "hybrid_top10_with_embedding_p95_ms": round(statistics.quantiles(timings, n=20)[18], 1),
        "query_embedding_p50_ms": round(statistics.median(embed_ms), 1),
    }


def _uuid(i: str) -> str:
    import uuid

    return str(uuid.UUID(int=int(i) + 1))


def main() -> None:
    embedder = SentenceEmbedder()
    embedder.load()
    embedder.embed(["warm up"])
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        out["search"] = search_latency(home, embedder)
        out["reingest"] = reingest(home, embedder)
        if PDF.exists():
            out["ingest"] = ingest_overhead(home, embedder)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
