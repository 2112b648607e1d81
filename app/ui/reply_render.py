"""Drawing a finished reply into the chat's document: its Markdown (code shaded), its
citation markers as the source list's numbers (`app.markers`; each a link to its source,
unknown ones flagged in red), links kept only when a source has the address, the sources
with an excerpt each, and the small line of figures.

Functions over a `QTextEdit` and a cursor, like `app.ui.reply_links`; `ChatView` calls
them. `cite` turns a `Citation` into the href of a link that opens it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from PySide6.QtGui import (
    QColor,
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QTextEdit

from app.citation import Citation
from app.markers import CheckedAnswer, check_answer
from app.ui.reply_links import ACTION_SCHEME, keep_line_breaks
from app.ui.theme import ChatColors, chat_colors

Cite = Callable[[Citation], str]
# Links of the chat's own (sources, actions, notes) are never policed.
OWN_SCHEMES = ("cite:", f"{ACTION_SCHEME}:", "goto:")
_MARKER = re.compile(r"\[\d{1,3}\??(?:, \d{1,3}\??)*\]|\[\?\]")
UNKNOWN_TIP = "This marker matches none of the sources listed under the reply."


def small(view: QTextEdit, colors: ChatColors) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(colors.meta))
    fmt.setFontPointSize(max(view.font().pointSizeF() - 1.5, 6.0))
    return fmt


def new_block(view: QTextEdit, cursor: QTextCursor, *, top_margin: float = 0.0) -> None:
    """Start a fresh, unformatted paragraph (no list, code or table carried over)."""
    block = QTextBlockFormat()
    block.setTopMargin(top_margin)
    if view.document().isEmpty():
        cursor.setBlockFormat(block)
        cursor.setBlockCharFormat(QTextCharFormat())
    else:
        cursor.insertBlock(block, QTextCharFormat())


def insert_reply(
    view: QTextEdit, cursor: QTextCursor, text: str, citations: Sequence[Citation], cite: Cite
) -> CheckedAnswer:
    """Insert a reply's text at the cursor: markers normalised and linked, links policed."""
    checked = check_answer(text, citations)
    start = cursor.position()
    insert_markdown(view, cursor, checked.text)
    end = cursor.position()
    colors = chat_colors(view)
    police_links(view.document(), start, end, checked, colors)
    if citations:
        link_markers(view.document(), start, end, citations, cite, colors)
    return checked


def insert_markdown(view: QTextEdit, cursor: QTextCursor, text: str) -> None:
    """Insert rendered Markdown at the cursor and shade its code blocks."""
    if not text.strip():
        return
    start = cursor.position()
    cursor.insertFragment(QTextDocumentFragment.fromMarkdown(keep_line_breaks(text)))
    block = view.document().findBlock(start)
    end = cursor.position()
    shade = QColor(chat_colors(view).code_background)
    while block.isValid() and block.position() <= end:
        if _is_code(block.blockFormat()):
            fmt = block.blockFormat()
            fmt.setBackground(shade)
            QTextCursor(block).setBlockFormat(fmt)
        block = block.next()


def _is_code(fmt: QTextBlockFormat) -> bool:
    return fmt.hasProperty(QTextFormat.Property.BlockCodeFence) or fmt.nonBreakableLines()


def police_links(
    doc: QTextDocument, start: int, end: int, checked: CheckedAnswer, colors: ChatColors
) -> None:
    """Between `start` and `end`, a link whose address no source has becomes plain text;
    one a source has keeps its link, in the link colour."""
    block = doc.findBlock(start)
    while block.isValid() and block.position() <= end:
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            href = fmt.anchorHref()
            if fmt.isAnchor() and href and not href.startswith(OWN_SCHEMES):
                cursor = QTextCursor(doc)
                cursor.setPosition(fragment.position())
                cursor.setPosition(
                    fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                )
                fixed = QTextCharFormat(fmt)
                if checked.link_allowed(href):
                    fixed.setForeground(QColor(colors.link))
                    fixed.setToolTip(f"{href} (in a source of this reply)")
                else:
                    fixed.setAnchor(False)
                    fixed.setAnchorHref("")
                    fixed.clearForeground()
                    fixed.setFontUnderline(False)
                    fixed.setToolTip("Not in any source of this reply, so not a link")
                cursor.setCharFormat(fixed)
            it += 1
        block = block.next()


def link_markers(
    doc: QTextDocument,
    start: int,
    end: int,
    citations: Sequence[Citation],
    cite: Cite,
    colors: ChatColors,
) -> None:
    """Make each normalised marker between `start` and `end` a link to its (first)
    source, and flag the unknown ones; markers in code are left alone."""
    by_n = {c.n: c for c in citations}
    block = doc.findBlock(start)
    while block.isValid() and block.position() <= end:
        if not _is_code(block.blockFormat()):
            for found in _MARKER.finditer(block.text()):
                cursor = QTextCursor(doc)
                cursor.setPosition(block.position() + found.start())
                cursor.setPosition(block.position() + found.end(), QTextCursor.MoveMode.KeepAnchor)
                if cursor.charFormat().fontFixedPitch():  # inline code
                    continue
                fmt = _marker_format(found.group(0), by_n, cite, colors)
                if fmt is not None:
                    cursor.mergeCharFormat(fmt)
        block = block.next()


def _marker_format(
    marker: str, by_n: dict[int, Citation], cite: Cite, colors: ChatColors
) -> QTextCharFormat | None:
    fmt = QTextCharFormat()
    numbers = [int(x) for x in marker.strip("[]").split(", ") if x.isdigit()]
    if "?" in marker:
        fmt.setForeground(QColor(colors.unknown_marker))
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setToolTip(UNKNOWN_TIP)
        return fmt
    if not numbers or numbers[0] not in by_n:
        return None
    fmt.setAnchor(True)
    fmt.setAnchorHref(cite(by_n[numbers[0]]))
    fmt.setForeground(QColor(colors.link))
    fmt.setToolTip("\n".join(by_n[n].where for n in numbers if n in by_n))
    return fmt


def insert_sources(
    view: QTextEdit, cursor: QTextCursor, citations: Sequence[Citation], cite: Cite
) -> None:
    """'[n] file.pdf p. 3 › heading' per source, a link that opens it, and under it an
    excerpt of the passage."""
    colors = chat_colors(view)
    meta = small(view, colors)
    for c in citations:
        new_block(view, cursor, top_margin=3.0)
        link = QTextCharFormat(meta)
        link.setAnchor(True)
        link.setAnchorHref(cite(c))
        link.setForeground(QColor(colors.link))
        link.setFontUnderline(True)
        cursor.insertText(f"[{c.n or '?'}] {c.where}", link)
        excerpt = c.excerpt()
        if excerpt:
            block = QTextBlockFormat()
            block.setLeftMargin(18.0)
            quote = QTextCharFormat(meta)
            quote.setFontItalic(True)
            cursor.insertBlock(block, quote)
            cursor.insertText(excerpt, quote)


def insert_figures(
    view: QTextEdit, cursor: QTextCursor, figures: str, stopped: bool, badge: str
) -> None:
    """The small line under a reply: where it was written, stopped, model and speed."""
    if not figures and not stopped and not badge:
        return
    new_block(view, cursor, top_margin=2.0)
    colors = chat_colors(view)
    meta = small(view, colors)
    if badge:
        fg, bg = colors.badge(badge)
        mark = QTextCharFormat(meta)
        mark.setForeground(QColor(fg))
        mark.setBackground(QColor(bg))
        mark.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(f" {badge} ", mark)
        if figures or stopped:
            cursor.insertText(" · ", meta)
    if stopped:
        red = QTextCharFormat(meta)
        red.setForeground(QColor(colors.stopped))
        cursor.insertText("(stopped)", red)
        if figures:
            cursor.insertText(" · ", meta)
    cursor.insertText(figures, meta)
