"""Passages of at most 230 words and 900 characters that follow the document's structure
(two characters more where the joint between two paragraphs falls at the end: the room
left is measured before it).

A passage never crosses a heading; it may cross pages (then it keeps the page range). A
passage cut for length repeats the last few words of the one before it.

The size is chosen for all-MiniLM-L6-v2, which reads at most 256 word pieces: a longer
passage would be embedded by its beginning only (BM25 still sees all of it). Words alone
were a poor measure: technical manuals run ~0.28 word pieces per character (paths,
options, numbers), so 170–230 words came to ~340 pieces on average and 80 % of the
Gutenprint manual's passages were cut short. The character cap keeps most passages
near 200–250 pieces.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.rag.loaders.base import Section

TARGET_WORDS = 170
MAX_WORDS = 230
OVERLAP_WORDS = 30
TARGET_CHARS = 700
MAX_CHARS = 900
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """One passage to embed, with where it came from (page range, heading path, offsets);
    `records` when it is made of table rows only (`Section.record`), one per line;
    `outline` the document outline's section where its own text begins (`Section.outline`:
    shown in citations, not embedded)."""

    text: str
    page: int | None
    page_end: int | None
    heading: tuple[str, ...]
    start: int
    end: int
    words: int
    records: bool = False
    outline: tuple[str, ...] = ()


def heading_text(heading: tuple[str, ...] | list[str]) -> str:
    """The last two levels of a heading path, as a line that gives a passage context (what
    `late` embeds in front of a passage and BM25 may index with it); "" with none."""
    return " > ".join(heading[-2:]) + "\n" if heading else ""


@dataclass
class _Piece:
    text: str
    page: int | None
    start: int
    end: int
    words: int
    record: bool = False
    outline: tuple[str, ...] = ()


@dataclass
class Chunker:
    """Turns a stream of sections into chunks; collects the problems sections report.
    `record_overlap`: whether a passage of table rows also repeats the last words of the
    one before. A row stands on its own, but without the overlap the tabular set lost two
    questions from its top five for 8 % fewer passages (issue 16's sixth round): kept on."""

    target: int = TARGET_WORDS
    maximum: int = MAX_WORDS
    overlap: int = OVERLAP_WORDS
    target_chars: int = TARGET_CHARS
    max_chars: int = MAX_CHARS
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    record_overlap: bool = True

    def chunks(self, sections: Iterable[Section]) -> Iterator[Chunk]:
        pieces: list[_Piece] = []
        heading: tuple[str, ...] = ()
        for section in sections:
            if section.problem:
                self.problems.append((section.page, section.problem))
                continue
            if section.heading != heading:
                if _fresh(pieces):
                    yield _make(pieces, heading)
                pieces = []
                heading = section.heading
            spans = [(m.start(), m.end()) for m in _WORD.finditer(section.text)]
            while spans:
                words, chars = _size(pieces)
                n = min(len(spans), self.maximum - words, _fit(spans, self.max_chars - chars))
                full = _fresh(pieces) and (
                    words >= self.target // 2 or chars >= self.target_chars // 2
                )
                if n < len(spans) and full:
                    # The paragraph does not fit: end the passage here rather than split it.
                    yield _make(pieces, heading)
                    pieces = self._carry(pieces)
                    continue
                take = spans[: max(n, 1)]
                a, b = take[0][0], take[-1][1]
                pieces.append(
                    _Piece(
                        section.text[a:b],
                        section.page,
                        section.start + a,
                        section.start + b,
                        len(take),
                        section.record,
                        section.outline_at(section.start + a),
                    )
                )
                spans = spans[len(take) :]
                words, chars = _size(pieces)
                if words >= self.target or chars >= self.target_chars:
                    yield _make(pieces, heading)
                    pieces = self._carry(pieces)
        if _fresh(pieces):
            yield _make(pieces, heading)

    def _carry(self, pieces: list[_Piece]) -> list[_Piece]:
        """The overlap: the last words of the last piece, marked as carried."""
        if not self.overlap or not pieces or (pieces[-1].record and not self.record_overlap):
            return []
        last = pieces[-1]
        spans = [(m.start(), m.end()) for m in _WORD.finditer(last.text)][-self.overlap :]
        # At most a quarter of a passage, so a carried run of long words leaves room.
        while spans and spans[-1][1] - spans[0][0] > self.max_chars // 4:
            spans = spans[1:]
        if not spans:
            return []
        a = spans[0][0]
        carried = _Carried(last.text[a:], last.page, last.start + a, last.end, len(spans))
        carried.record = last.record
        carried.outline = last.outline
        return [carried]


@dataclass
class _Carried(_Piece):
    """Words repeated from the previous passage (overlap)."""


def _size(pieces: list[_Piece]) -> tuple[int, int]:
    """Words and characters of a passage in the making (joints count two characters)."""
    if not pieces:
        return 0, 0
    return sum(p.words for p in pieces), sum(len(p.text) + 2 for p in pieces) - 2


def _fit(spans: list[tuple[int, int]], room: int) -> int:
    """How many of the leading word spans fit in `room` characters."""
    if room <= 0:
        return 0
    ends = [end for _, end in spans]
    return bisect_right(ends, spans[0][0] + room)


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
        records=all(p.record for p in pieces),
        outline=next((p.outline for p in pieces if not isinstance(p, _Carried)), ()),
    )
