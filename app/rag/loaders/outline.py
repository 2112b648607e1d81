"""A PDF's outline (bookmarks) as the sections its passages are cited under.

Manuals made by LaTeX, texinfo, DocBook or Sphinx carry an outline naming each section
and the page it starts on. An item applies from where its title is found in that page's
text (its words in order; case, spacing and punctuation between them ignored; searched
after the previous item's place; from that place when not found) until the next item, and
a passage's section is the path of items above it by level where its own text begins.

The outline names: it neither cuts passages nor changes what is embedded. Both ways it
was tried as headings that do (cutting the text at every item, or naming each passage in
what is embedded) lost questions from two development sets' top five (issue 16's
nineteenth round, tests/bench/RULES.md), so passages are the same with or without it;
citations show the section, and BM25 reads it with the passage (`app.rag.points.
BM25_OUTLINE`, picked on a PDF set of its own in the twentieth round).
"""

from __future__ import annotations

import re

import pypdfium2  # type: ignore[import-untyped]

# Whether a PDF's outline names its passages' sections (a switch for the bench).
PDF_OUTLINE = True
# Outline items deeper than this are not read (pypdfium2 also stops at cycles).
OUTLINE_DEPTH = 8

Item = tuple[int, str]  # (level, 1 at the top; title)
Marks = tuple[tuple[int, tuple[str, ...]], ...]


def read_outline(doc: pypdfium2.PdfDocument, count: int) -> dict[int, list[Item]]:
    """The outline's items by 0-based destination page, in outline order. Empty when there
    is none or it cannot be read: a damaged outline never fails the file."""
    if not PDF_OUTLINE:
        return {}
    items: dict[int, list[Item]] = {}
    try:
        for bookmark in doc.get_toc(max_depth=OUTLINE_DEPTH):
            title = " ".join((bookmark.get_title() or "").split())
            dest = bookmark.get_dest()
            page = dest.get_index() if dest is not None else None
            if title and page is not None and 0 <= page < count:
                items.setdefault(page, []).append((bookmark.level + 1, title))
    except (pypdfium2.PdfiumError, ValueError, OSError):
        return {}
    return items


class OutlinePath:
    """The section path as a document is read page by page."""

    def __init__(self) -> None:
        self.path: tuple[Item, ...] = ()

    def marks(self, text: str, items: list[Item]) -> Marks:
        """Where on a page of `text` the path changes, from its start: (offset, titles)."""
        if not items and not self.path:
            return ()
        out = [(0, self._titles())]
        place = 0
        for level, title in items:
            words = re.findall(r"\w+", title)
            pattern = r"\W*".join(re.escape(w) for w in words)
            found = re.compile(pattern, re.IGNORECASE).search(text, place) if words else None
            begin = found.start() if found else place
            place = found.end() if found else place
            self._enter(level, title)
            if out[-1][0] == begin:
                out[-1] = (begin, self._titles())
            else:
                out.append((begin, self._titles()))
        return tuple(out)

    def skip(self, items: list[Item]) -> None:
        """A page whose text is not read (it needs OCR): its sections still go on after it."""
        for level, title in items:
            self._enter(level, title)

    def _enter(self, level: int, title: str) -> None:
        """A section of `level` begins: it closes those at its level or below."""
        self.path = (*(p for p in self.path if p[0] < level), (level, title))

    def _titles(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.path)
