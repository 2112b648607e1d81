"""What a collection's index stores and answers, whichever engine holds it (the embedded
shard, `app.rag.index`, or a Qdrant server, `app.rag.server_index`): the `Index` protocol,
the points written (`IndexPoint`, with stable ids) and the hits read (`Hit`)."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import qdrant_edge as qe

from app.rag.chunker import Chunk, heading_text

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class IndexPoint:
    """A chunk ready for the index: its vector, its text (for BM25) and its payload;
    `sentences` are its sentence vectors (None: the vector alone stands for them)."""

    id: str
    vector: list[float]
    text: str
    payload: dict[str, Any]
    sentences: list[list[float]] | None = None


# A point's vectors as stored: its dense vector and its sentence vectors (None: none).
Stored = tuple[list[float], list[list[float]] | None]
# The payload keys a point's vectors are made from (with the collection's embedder and
# representation): what `app.rag.reuse` compares.
EMBEDDED_FROM = ["text", "heading", "records"]


@dataclass(frozen=True)
class Hit:
    """A search result: the point's payload and its fused (or single-mode) score."""

    id: str
    score: float
    payload: dict[str, Any]


def tally(counts: dict[tuple[str, str], int], payloads: Iterable[dict[str, Any] | None]) -> None:
    """Count points by their payload's (source, hash), as `Index.sources` answers."""
    for payload in payloads:
        key = (str((payload or {}).get("source")), str((payload or {}).get("hash")))
        counts[key] = counts.get(key, 0) + 1


def point_id(source: str, content_hash: str, n: int) -> str:
    """A stable id per (file, version, chunk): re-running an interrupted file overwrites."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}\0{content_hash}\0{n}"))


class Index(Protocol):
    """A collection's searchable store of chunks; the embedded and server versions agree."""

    def upsert(self, points: list[IndexPoint]) -> None: ...

    def delete_source(self, source: str, keep_hash: str | None = None) -> None: ...

    def delete_version(self, source: str, content_hash: str) -> None: ...

    def search(
        self,
        dense: list[float] | None,
        text: str,
        k: int,
        sources: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]: ...

    def sources(self) -> dict[tuple[str, str], int]: ...

    def passages(self, source: str, content_hash: str) -> list[tuple[str, dict[str, Any]]]:
        """Each point of one version of a file: its id and the payload its vectors were
        made from (`EMBEDDED_FROM`: text, heading, records)."""
        ...

    def vectors(self, ids: list[str]) -> dict[str, Stored]:
        """The dense vector and sentence vectors (None: none stored) of those of `ids` that
        are in the index."""
        ...

    def count(self) -> int: ...

    def flush(self) -> None: ...

    def bulk(self, waiting: Callable[[], None] | None = None) -> AbstractContextManager[None]: ...

    def offer_turn(
        self, waiting: Callable[[str], None] | None = None, *, mid_add: bool = False
    ) -> None:
        """Called between two groups of an add (nothing half written), or after a batch of
        one (`mid_add`, for a process that only reads): another process waiting for the
        collection may have it now (`waiting` is told while this one waits for it back)."""

    def close(self) -> None: ...


# Whether BM25 indexes a passage's heading line (the last two levels of its heading path,
# which the dense side embeds in front of it) as well as its text, so a section's title
# reaches BM25 in every passage of the section: picked on the second development set under
# a rule named first (issue 16's nineteenth round, tests/bench/RULES.md): hybrid MRR@10
# 0.856 -> 0.875 there, no question lost from the top five.
BM25_HEADINGS = True
# Whether that heading line also takes the passage's section from the document's outline
# (a PDF's bookmarks, `Chunk.outline`), in front of its own heading path: picked on a PDF
# set no search had run on under a rule named first (issue 16's twentieth round,
# tests/bench/RULES.md): hybrid MRR@10 0.724 -> 0.752 there, no question lost from the top
# five; dev held (0.771 -> 0.764, the same top fives). The dense side never reads it.
BM25_OUTLINE = True


def bm25_text(text: str, payload: dict[str, Any]) -> str:
    """What BM25 indexes for a passage of `text` whose point carries `payload`."""
    if not BM25_HEADINGS:
        return text
    heading = list(payload.get("heading") or [])
    if BM25_OUTLINE:
        heading = list(payload.get("outline") or []) + heading
    return heading_text(heading) + text


def shown_heading(payload: dict[str, Any]) -> str:
    """A passage's section as a citation shows it: the document outline's path (a PDF's),
    then its heading path, joined by " › ", each title without the permalink mark a web
    page may end it with (Sphinx's ¶, or an icon font's glyph)."""
    levels = [*(payload.get("outline") or []), *(payload.get("heading") or [])]
    return " › ".join(_without_mark(level) for level in levels)


def _without_mark(title: str) -> str:
    end = len(title)
    while end and (title[end - 1] == "¶" or unicodedata.category(title[end - 1]) == "Co"):
        end -= 1
    return title[:end].rstrip() or title


def bm25() -> qe.Bm25:
    """The keyword (sparse) encoder both indexes use, so their vectors never drift apart."""
    return qe.Bm25(qe.Bm25Config(language="english"))


def payload(source: str, content_hash: str, n: int, chunk: Chunk) -> dict[str, Any]:
    """What a passage's point carries besides its vectors and text ("records" only for a
    passage of table rows: a re-embedding embeds it as one)."""
    out: dict[str, Any] = {
        "source": source,
        "hash": content_hash,
        "n": n,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "heading": list(chunk.heading),
        "start": chunk.start,
        "end": chunk.end,
    }
    if chunk.records:
        out["records"] = True
    if chunk.outline:
        out["outline"] = list(chunk.outline)
    return out
