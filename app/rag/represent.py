"""How a passage becomes dense vectors: one per sentence, and their mean.

all-MiniLM-L6-v2 is a *sentence* embedder (trained on pairs of at most 128 word pieces);
one vector for a whole 200–250-piece passage blurs a sentence that answers a question with
the rest of the passage. So each passage is embedded sentence by sentence (short fragments
joined up to `SENTENCE_CHARS`), and the index keeps:

- the sentences' vectors, compared by MaxSim (a passage scores as its best sentence), used
  to re-rank the first stage's candidates; on this machine they are kept beside the shard
  (`app.rag.sentences`, packed by `pack`), on a Qdrant server as a native MaxSim multivector;
- their normalised mean, as the passage's single vector for the first stage: as cheap to
  search as before, and no extra embedding.

Measured on tests/rag/eval (57 questions, two real manuals, same run, same chunks):
hybrid hit@1 0.632 → 0.719, hit@5 0.860 → 0.895, MRR@10 0.734 → 0.801 against one vector
per passage; re-ranking the mean vector's top 100 by MaxSim gave the same figures as MaxSim
over every passage. It costs ~1.45× the embedding time of one vector per passage (more,
shorter sequences). Windows of ~250 characters cost less (1.3×) but gained half as much in
hit@1; ~600 gained nothing.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.rag.chunker import Chunk, heading_text
from app.rag.embedder import Embedder

# Fragments are joined into one embedded sentence up to this many characters.
SENTENCE_CHARS = 150
# No passage carries more sentence vectors than this (a table or a list of short lines
# is repacked into fewer, longer pieces).
MAX_SENTENCES = 12
# A sentence ends at . ! ? : ; followed by space, or at a line break.
_SPLIT = re.compile(r"(?<=[.!?:;])\s+|\n+")


@dataclass(frozen=True)
class Vectors:
    """A passage's dense vectors: the mean (unit length) and one per sentence."""

    mean: list[float]
    sentences: list[list[float]]


def heading_line(chunk: Chunk) -> str:
    """The last two levels of the heading path, as a line that gives a passage context."""
    return heading_text(chunk.heading)


def sentences(chunk: Chunk, limit: int = SENTENCE_CHARS) -> list[str]:
    """The texts embedded for `chunk`: its sentences, short ones joined, each prefixed by
    the heading line; at most `MAX_SENTENCES` of them, never none."""
    return _bounded(chunk, [p.strip() for p in _SPLIT.split(chunk.text) if p.strip()], limit)


def rows(chunk: Chunk, limit: int = SENTENCE_CHARS) -> list[str]:
    """The texts embedded for a passage of table rows (`Chunk.records`) when they are
    embedded whole: like `sentences`, but a row is never cut at its `; ` or `: `."""
    return _bounded(chunk, [r.strip() for r in chunk.text.splitlines() if r.strip()], limit)


def _bounded(chunk: Chunk, parts: list[str], limit: int) -> list[str]:
    """`parts` packed up to `limit` characters (doubled until at most `MAX_SENTENCES`
    remain; the whole text if there are none), each after the heading line."""
    if not parts:
        parts = [chunk.text.strip() or chunk.text]
    packed = _pack(parts, limit)
    while len(packed) > MAX_SENTENCES:
        limit *= 2
        packed = _pack(parts, limit)
    head = heading_line(chunk)
    return [head + s for s in packed]


def _pack(parts: list[str], limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + 1 + len(part) > limit:
            out.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    if current:
        out.append(current)
    return out


def sentence_spans(text: str, limit: int = SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Where in `text` the pieces of `sentences` lie (without the heading line): the
    same splitting and packing, as (start, end) character offsets."""
    parts: list[tuple[int, int]] = []
    at = 0
    for m in _SPLIT.finditer(text + "\n"):
        piece = text[at : m.start()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            parts.append((at + lead, at + len(piece.rstrip())))
        at = m.end()
    if not parts:
        return [(0, len(text))]
    packed = _pack_spans(parts, limit)
    while len(packed) > MAX_SENTENCES:
        limit *= 2
        packed = _pack_spans(parts, limit)
    return packed


def _pack_spans(parts: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in parts:
        if out and (b - out[-1][0]) <= limit:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def embed_chunks(
    embedder: Embedder,
    chunks: Sequence[Chunk],
    pieces: Callable[[Chunk], list[str]] = sentences,
) -> list[Vectors]:
    """Every sentence of `chunks` (or what `pieces` cuts them into) in one call to the
    embedder, grouped back per chunk (the "sentences" representation)."""
    texts: list[str] = []
    bounds: list[int] = [0]
    for chunk in chunks:
        texts.extend(pieces(chunk))
        bounds.append(len(texts))
    if not chunks:
        return []
    matrix = np.asarray(embedder.embed(texts), dtype=np.float32)
    out = []
    for a, b in itertools.pairwise(bounds):
        group = matrix[a:b]
        mean = group.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        if norm > 0:
            mean /= norm
        out.append(Vectors(mean.tolist(), group.tolist()))
    return out


# Sentence vectors are stored as int8 (components x 127): 2.7 KB for 7 sentences, in the
# collection's `SentenceStore` beside its shard (`app.rag.sentences`; shards made before it
# hold them in the payload as base64, which `unpack` still reads). Kept as a multivector in
# the engine they cost ~5 KB of RAM per point (the appendable segment holds them in memory:
# 540 MB at 100k, and every reopen reads them in); a search reads only those of its
# `RESCORE` candidates. int8 moves a cosine by ~0.002 (at most 0.08), below the gaps that
# rank: the evaluation set scores the same (BENCHMARKS.md).
INT8_SCALE = 127.0


def pack(vectors: list[list[float]]) -> bytes:
    """Unit vectors as the bytes `unpack` reads back (int8)."""
    matrix = np.clip(np.rint(np.asarray(vectors, dtype=np.float32) * INT8_SCALE), -127, 127)
    return bytes(matrix.astype(np.int8).tobytes())


def unpack(packed: bytes | str, dim: int) -> np.ndarray:
    """The (sentences x dim) float32 matrix of `pack`ed bytes (or, from a payload, of their
    base64)."""
    raw = base64.b64decode(packed) if isinstance(packed, str) else packed
    return np.frombuffer(raw, dtype=np.int8).reshape(-1, dim).astype(np.float32) / INT8_SCALE


def best_sentence(query: np.ndarray, packed: bytes | str) -> float:
    """MaxSim: the cosine of the query (a unit vector) with the passage's best sentence."""
    return float((unpack(packed, query.shape[0]) @ query).max())


def fuse(
    rankings: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Convex combination of (id, score) rankings: each ranking's scores are scaled to
    [0, 1] over its own candidates (min-max; all equal count as 1), an id missing from a
    ranking gets 0 there, and the scaled scores are summed with `weights`. The best first,
    ties in order of first appearance.

    Unlike reciprocal rank fusion this keeps how far apart the scores are, so a passage
    the dense side ranks far ahead is not pulled below ones both sides rank middling (Bruch
    et al., "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS 2023)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        values = [score for _, score in ranking]
        low, high = min(values), max(values)
        for key, score in ranking:
            scaled = (score - low) / (high - low) if high > low else 1.0
            fused[key] = fused.get(key, 0.0) + weight * scaled
    return sorted(fused.items(), key=lambda item: -item[1])
