"""Passages of ~170–230 words (≈ 220–300 tokens) that follow the document's structure.

A passage never crosses a heading; it may cross pages (then it keeps the page range). A
passage cut for length repeats the last few words of the one before it.

The size is chosen for all-MiniLM-L6-v2, which reads at most 256 word pieces: a longer
passage would be embedded by its beginning only (BM25 still sees all of it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.rag.loaders.base import Section

TARGET_WORDS = 170
MAX_WORDS = 230
OVERLAP_WORDS = 30
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """One passage to embed, with where it came from (page range, heading path, offsets)."""

    text: str
    page: int | None
    page_end: int | None
    heading: tuple[str, ...]
    start: int
    end: int
    words: int


@dataclass
class _Piece:
    text: str
    page: int | None
    start: int
    end: int
    words: int


@dataclass
class Chunker:
    """Turns a stream of sections into chunks; collects the problems sections report."""

    target: int = TARGET_WORDS
    maximum: int = MAX_WORDS
    overlap: int = OVERLAP_WORDS
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    def chunks(self, sections: Iterable[Section]) -> Iterator[Chunk]:
        pieces: list[_Piece] = []
        count = 0
        heading: tuple[str, ...] = ()
        for section in sections:
            if section.problem:
                self.problems.append((section.page, section.problem))
                continue
            if section.heading != heading:
                if _fresh(pieces):
                    yield _make(pieces, heading)
                pieces, count = [], 0
                heading = section.heading
            spans = [(m.start(), m.end()) for m in _WORD.finditer(section.text)]
            while spans:
                room = self.maximum - count
                take = spans if len(spans) <= room else spans[:room]
                if len(take) < len(spans) and count >= self.target // 2:
                    # The paragraph does not fit: end the passage here rather than split it.
                    yield _make(pieces, heading)
                    pieces, count = self._carry(pieces), 0
                    count = sum(p.words for p in pieces)
                    continue
                a, b = take[0][0], take[-1][1]
                pieces.append(
                    _Piece(
                        section.text[a:b],
                        section.page,
                        section.start + a,
                        section.start + b,
                        len(take),
                    )
                )
                count += len(take)
                spans = spans[len(take) :]
                if count >= self.target:
                    yield _make(pieces, heading)
                    pieces = self._carry(pieces)
                    count = sum(p.words for p in pieces)
        if _fresh(pieces):
            yield _make(pieces, heading)

    def _carry(self, pieces: list[_Piece]) -> list[_Piece]:
        """The overlap: the last words of the last piece, marked as carried."""
        if not self.overlap or not pieces:
            return []
        last = pieces[-1]
        spans = [(m.start(), m.end()) for m in _WORD.finditer(last.text)][-self.overlap :]
        if not spans:
            return []
        a = spans[0][0]
        return [_Carried(last.text[a:], last.page, last.start + a, last.end, len(spans))]


@dataclass
class _Carried(_Piece):
    """Words repeated from the previous passage (overlap)."""


def _fresh(pieces: list[_Piece]) -> bool:
    """Whether the pieces hold words not yet emitted (not only the overlap)."""
    return any(not isinstance(p, _Carried) for p in pieces)


def _make(pieces: list[_Piece], heading: tuple[str, ...]) -> Chunk:
    pages = [p.page for p in pieces if p.page is not None]
    return Chunk(
        text="\n\n".join(p.text for p in pieces),
        page=pages[0] if pages else None,
        page_end=pages[-1] if pages else None,
        heading=heading,
        start=pieces[0].start,
        end=pieces[-1].end,
        words=sum(p.words for p in pieces),
    )
