"""Section titles from type size, for a PDF that has no outline.

Reports, papers and office exports often carry no bookmarks, but their titles are set
larger than their text. The body size is the size most of the document's characters have
so far (counted page by page as the file streams); a line set at least `LARGER` times that
is a title, and up to `MAX_TITLE_LINES` such lines in a row are one title when each is as
large as the one before (a wrapped title) or larger under a label of two words at most
("Chapter 3" over a larger "Expressions"), of at most `MAX_TITLE` characters with at
least two letters and no dot leaders (a table of contents' lines). A larger title holds
the smaller ones after it, as an outline's levels do. Bold text at the body's size
(emphasis, code, table headers, running heads) is not a title, with one exception
(`BOLD_NUMBERED`): a bold line at the body's size that starts with a section number of two
parts or more ("3.1.7 The sorting option") and does not end in a page number is a title
below every title told by size, a deeper number lower.

The titles are used as a PDF's outline is (`app.rag.loaders.outline`): they name the
passages in citations and for BM25, and cut nothing; a PDF with an outline keeps it. A
line's size is read from its first, middle and last visible characters (three calls into
pdfium a line, not one a character; a numbered line's fonts, three more).
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter

import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

from app.rag.loaders.outline import Item

# Whether a PDF without an outline takes its section titles from type size: picked under a
# rule named first (issue 16's twentieth round, tests/bench/RULES.md) on dev read without
# its outlines: hybrid MRR@10 0.771 -> 0.764, the same top fives; 98 % of the titles it told
# there are outline items, and it found 76 % of them.
TYPESET_HEADINGS = True
LARGER = 1.15
MAX_TITLE = 100
MAX_TITLE_LINES = 3
SAME_SIZE = 0.05
_LINE = re.compile(r"[^\r\n]+")
# Dots leading to a page number: a line of a table of contents, not a title.
_LEADER = re.compile(r"(?:\. ?){4,}")
# Whether a numbered bold line at the body's size is a title: picked under a rule named
# first (issue 16's twenty-first round, tests/bench/RULES.md).
BOLD_NUMBERED = True
# A section number of two parts or more, then a word: "3.1 Title", "A.2. Title".
_NUMBERED = re.compile(r"(?:\d+|[A-Z])((?:\.\d+)+)\.?\s+\w")
# A page number at a line's end: a contents line or a running footer, not a title.
_PAGE_NUMBER = re.compile(r"\s\d+$")
# Bold faces by their font's name (after a subset's "ABCDEF+" prefix); TeX's CMBX is bold.
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|medi|cmbx", re.IGNORECASE)
_FORCE_BOLD = 1 << 18  # the font descriptor's ForceBold flag
Line = tuple[str, float, bool]  # a line's text, its type size, whether numbered and bold


def line_sizes(textpage: object, raw: str) -> list[Line]:
    """Each line of a page's text as pdfium gives it (`raw`, indexed as its characters)
    with its type size in points, rounded to a tenth, and whether it is a numbered line
    set bold (see `BOLD_NUMBERED`)."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    out: list[Line] = []
    for m in _LINE.finditer(raw):
        visible = [m.start() + i for i, c in enumerate(m.group()) if not c.isspace()]
        if not visible:
            continue
        probes = [i for i in {visible[0], visible[len(visible) // 2], visible[-1]} if i < count]
        sizes = sorted(_size(textpage, i) for i in probes)
        if sizes:
            text = m.group().strip()
            numbered = BOLD_NUMBERED and _NUMBERED.match(text) and not _PAGE_NUMBER.search(text)
            bold = bool(numbered) and all(_bold(textpage, i) for i in probes)
            out.append((text, round(sizes[len(sizes) // 2], 1), bold))
    return out


def _bold(textpage: object, index: int) -> bool:
    """Whether a character's font is bold, by its name or its ForceBold flag."""
    name = ctypes.create_string_buffer(256)
    flags = ctypes.c_int(0)
    got = pdfium_c.FPDFText_GetFontInfo(textpage, index, name, len(name), ctypes.byref(flags))
    face = name.value.decode("latin-1").rpartition("+")[2] if 0 < got <= len(name) else ""
    return bool(flags.value & _FORCE_BOLD or _BOLD_FONT.search(face))


def _size(textpage: object, index: int) -> float:
    """A character's size as set: its font's size scaled by its matrix (text set at 1 pt
    and scaled by the text matrix, as some PDF makers do, is as large as it looks)."""
    size = float(pdfium_c.FPDFText_GetFontSize(textpage, index))
    matrix = pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFText_GetMatrix(textpage, index, ctypes.byref(matrix)):
        size *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
    return size


class TypeSizes:
    """The body's type size as a document is read, and each page's titles by it."""

    def __init__(self) -> None:
        self.chars: Counter[float] = Counter()

    def titles(self, lines: list[Line]) -> list[Item]:
        """A page's titles in reading order, as outline items (level: larger is higher)."""
        for text, size, _ in lines:
            self.chars[size] += len(text)
        if not self.chars:
            return []
        body = self.chars.most_common(1)[0][0]
        items: list[Item] = []
        run: list[tuple[str, float]] = []
        for text, size, bold in [*lines, ("", 0.0, False)]:  # the sentinel ends a last run
            titled = body > 0 and size >= body * LARGER
            if titled and (not run or _continues(run, size)):
                run.append((text, size))
                continue
            if run:
                items.extend(_title(run))
            run = [(text, size)] if titled else []
            if bold and not titled and abs(size - body) <= SAME_SIZE * body:
                items.extend(_numbered(text, body))
        return items


def _continues(run: list[tuple[str, float]], size: float) -> bool:
    """Whether a title line of `size` goes on the title of `run`: a line as large (within
    `SAME_SIZE`: a title wrapped), or a larger one under a label of at most two words
    ("Chapter 3", "Capítulo 1", "2" over "Expressions"). Otherwise it is a title of its
    own: a title page's author and date line is not part of "1 Overview" set larger below
    it, nor a figure's caption of the section title after it."""
    last = run[-1][1]
    if abs(size - last) <= SAME_SIZE * last:
        return True
    return size > last and len(" ".join(text for text, _ in run).split()) <= 2


def _title(run: list[tuple[str, float]]) -> list[Item]:
    if len(run) > MAX_TITLE_LINES:
        return []
    title = " ".join(" ".join(text for text, _ in run).split())
    if not _plausible(title):
        return []
    return [(-round(max(size for _, size in run) * 2), title)]


def _numbered(text: str, body: float) -> list[Item]:
    """A numbered bold line at the body's size as a title: below the body's level (every
    title told by size is above it), one level lower for each part of its number."""
    title = " ".join(text.split())
    number = _NUMBERED.match(title)
    if number is None or not _plausible(title):
        return []
    return [(-round(body * 2) + number.group(1).count("."), title)]


def _plausible(title: str) -> bool:
    """Not too long, at least two letters, and no dot leaders."""
    return (
        len(title) <= MAX_TITLE
        and sum(c.isalpha() for c in title) >= 2
        and not _LEADER.search(title)
    )
