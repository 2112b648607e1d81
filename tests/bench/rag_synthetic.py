"""Synthetic collections for the search benches: the manuals they read, a word list for
when none is installed, random or real-sentence vectors, and shards of `n` points built
as an ingest builds them (`bench_rag`'s 100k search, `bench_rag_hnsw`, `bench_bundle`)."""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.rag.chunker import Chunker
from app.rag.index import EdgeIndex, IndexPoint
from app.rag.loaders import load

PDF = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")
HTML = [Path(f"/usr/share/debian-reference/ch0{i}.en.html") for i in (1, 2)]
# Sentence vectors per passage in the 100k search bench: the real corpus averages ~7.
SENTENCES_PER_CHUNK = 7
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
DIM = 384
TEXT_WORDS = 80  # words of text per passage (the chunker's passages run 150-200)


def sentence_vectors(gen: Any, mean: Any, n: int) -> list[list[float]]:
    """`n` unit vectors scattered around `mean`, standing in for a passage's sentences."""
    import numpy as np

    rows = mean + 0.5 * gen.standard_normal((n, mean.shape[0]), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    out: list[list[float]] = rows.tolist()
    return out


def point_id(i: str) -> str:
    import uuid

    return str(uuid.UUID(int=int(i) + 1))


def corpus_words() -> list[str]:
    """The words of the real manuals, in order; the bench's word list if none is installed."""
    words: list[str] = []
    for f in [*HTML, PDF]:
        if f.exists():
            for chunk in Chunker().chunks(load(f)):
                words.extend(re.findall(r"\w+", chunk.text.lower()))
    return words or WORDS * 1000


Vectors = Callable[[np.random.Generator, int], tuple[np.ndarray, list[Any]]]


def random_vectors(sentences: int) -> Vectors:
    """Random unit passage vectors, each with its sentences scattered around it."""

    def make(gen: np.random.Generator, count: int) -> tuple[np.ndarray, list[Any]]:
        rows = gen.standard_normal((count, DIM), dtype=np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows, [sentence_vectors(gen, v, sentences) if sentences else None for v in rows]

    return make


def corpus_vectors(embedded: np.ndarray, sentences: int) -> Vectors:
    """Passages of `sentences` consecutive real sentence vectors (MiniLM, of the manuals),
    each nudged by noise of norm ~0.1 so that no two points are the same; the passage
    vector is their normalised mean, as `app.rag.represent` makes it."""
    k = max(1, sentences)

    def make(gen: np.random.Generator, count: int) -> tuple[np.ndarray, list[Any]]:
        starts = gen.integers(0, len(embedded) - k, count)
        groups = embedded[starts[:, None] + np.arange(k)]
        groups = groups + 0.005 * gen.standard_normal(groups.shape, dtype=np.float32)
        groups /= np.linalg.norm(groups, axis=2, keepdims=True)
        rows = groups.mean(axis=1)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows, [g.tolist() if sentences else None for g in groups]

    return make


def build(
    folder: Path, n: int, words: list[str], make: Vectors, step: int | None = None
) -> tuple[EdgeIndex, float]:
    """`n` points in a new shard that never builds HNSW by itself, or (`step`) builds it as
    an ingest does, waiting for a build each `step` points; returns it and points/s."""
    rng = random.Random(1)
    gen = np.random.default_rng(1)
    index = EdgeIndex(folder, DIM, hnsw_threshold=step)
    t = time.perf_counter()
    with index.bulk() if step else contextlib.nullcontext():
        _add(index, n, words, make, rng, gen, step is not None)
    index.flush()
    return index, n / (time.perf_counter() - t)


def _add(
    index: EdgeIndex,
    n: int,
    words: list[str],
    make: Vectors,
    rng: random.Random,
    gen: np.random.Generator,
    flush: bool,
) -> None:
    for start in range(0, n, 1000):
        stop = min(n, start + 1000)
        vectors, sentences = make(gen, stop - start)
        points = []
        for i in range(start, stop):
            at = rng.randrange(len(words) - TEXT_WORDS)
            points.append(
                IndexPoint(
                    point_id(str(i)),
                    vectors[i - start].tolist(),
                    " ".join(words[at : at + TEXT_WORDS]),
                    {"source": f"s{i % 500}", "hash": "h"},
                    sentences[i - start],
                )
            )
        index.upsert(points)
        if flush:
            index.flush()


def corpus_sentences(limit: int) -> list[str]:
    """The first `limit` sentences of the manuals, in order, as the index embeds them."""
    from app.rag.represent import sentences

    out: list[str] = []
    for f in [*HTML, PDF]:
        if f.exists():
            for chunk in Chunker().chunks(load(f)):
                out.extend(sentences(chunk))
                if len(out) >= limit:
                    return out[:limit]
    return out
