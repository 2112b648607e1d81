"""A document other than a PDF shown as text in the viewer: read by Carrel's loaders
(`app.rag.loaders.load`), at most `MAX_SHOWN_CHARS` of it, its headings bold, the cited
passage found by its offsets or its words and selected (`read_text`, `show_text`,
`select_passage`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from app.citation import Citation
from app.errors import CarrelError
from app.rag.loaders import Section, load
from app.ui.citations import find_passage

# A text document is shown up to this many characters (a few MB); the rest is one click away.
MAX_SHOWN_CHARS = 2_000_000
MAX_BOLD_HEADINGS = 2_000
MARK_COLOR = QColor(255, 214, 0)  # multiplied onto a page, as a highlighter pen does


@dataclass
class Shown:
    """A document's text as shown, and where each section of it came from."""

    text: str
    spans: list[tuple[int | None, int, int, int]]  # page, offset in source, shown at, length
    headings: list[tuple[int, int]]
    complete: bool

    def __post_init__(self) -> None:
        # Qt counts UTF-16 units: a character past U+FFFF is two of them.
        self._bmp = not self.text or max(self.text) <= "\uffff"

    def qt(self, index: int) -> int:
        """A Python index into the text as a Qt position."""
        return index if self._bmp else len(self.text[:index].encode("utf-16-le")) // 2

    def at(self, page: int | None, offset: int) -> int | None:
        """Where a (page, offset) of the source is in the shown text, if it is shown."""
        for p, start, pos, length in self.spans:
            if p == page and start <= offset <= start + length:
                return pos + offset - start
        return None

    def find(self, cited: Citation) -> tuple[int, int] | None:
        """The passage: by its offsets when they land on its words, else by its words."""
        at = self.at(cited.page, cited.start) if cited.end > cited.start else None
        page_start = next((pos for p, _, pos, _ in self.spans if p == cited.page), 0)
        return find_passage(self.text, cited.text, at, page_start)


def read_text(path: Path) -> Shown:
    """The loaders' sections as one text, a heading on a line of its own where it changes,
    sections a line apart where they were (CSV rows) and a blank line apart otherwise;
    reading stops at `MAX_SHOWN_CHARS`."""
    parts: list[str] = []
    spans: list[tuple[int | None, int, int, int]] = []
    headings: list[tuple[int, int]] = []
    pos = 0

    def add(piece: str, joint: str) -> int:
        nonlocal pos
        if parts:
            parts.append(joint)
            pos += len(joint)
        parts.append(piece)
        pos += len(piece)
        return pos - len(piece)

    heading: tuple[str, ...] = ()
    ended: tuple[int | None, int] | None = None  # page and offset where the last one ended
    complete = True
    sections: Iterator[Section] = load(path)
    try:
        for s in sections:
            if s.problem or not s.text:
                continue
            if pos + len(s.text) > MAX_SHOWN_CHARS:
                complete = False
                break
            joint = "\n" if ended == (s.page, s.start - 1) else "\n\n"
            if s.heading and s.heading != heading:
                title = s.heading[-1]
                at = add(title, "\n\n")
                headings.append((at, at + len(title)))
            heading = s.heading
            spans.append((s.page, s.start, add(s.text, joint), len(s.text)))
            ended = (s.page, s.start + len(s.text))
    finally:
        close = getattr(sections, "close", None)
        if close is not None:
            close()
    return Shown("".join(parts), spans, headings, complete)


def show_text(view: QPlainTextEdit, shown: Shown) -> None:
    """Put the text in `view`, its first `MAX_BOLD_HEADINGS` headings bold."""
    view.setPlainText(shown.text)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    for a, b in shown.headings[:MAX_BOLD_HEADINGS]:
        cursor = QTextCursor(view.document())
        cursor.setPosition(shown.qt(a))
        cursor.setPosition(shown.qt(b), QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(bold)


def select_passage(view: QPlainTextEdit, shown: Shown, span: tuple[int, int]) -> None:
    """Select and mark the passage, and scroll it into the middle of the view."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(shown.qt(span[1]))
    cursor.setPosition(shown.qt(span[0]), QTextCursor.MoveMode.KeepAnchor)
    mark = QTextEdit.ExtraSelection()
    mark.cursor = cursor
    mark.format.setBackground(MARK_COLOR)
    view.setExtraSelections([mark])
    view.setTextCursor(cursor)
    view.centerCursor()


def unreadable(path: Path, exc: CarrelError | OSError) -> str:
    """The one line a document that cannot be opened is shown as (PDF or text)."""
    if isinstance(exc, CarrelError):
        return exc.message
    return f"'{path.name}' cannot be read: {exc.strerror or exc}."
