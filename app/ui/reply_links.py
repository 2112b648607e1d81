"""The links under each message of the chat (copy, regenerate, continue, edit, and
‹ n/m › through its variants), and the Markdown the chat renders a reply from.

An action link is `act:<name>:<message id>`; `ChatView` turns a click on one into its
`action(str, int)` signal. The names are the `ACTIONS` below.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

from app.branches import Turn
from app.ui.theme import chat_colors

ACTION_SCHEME = "act"
COPY, REGENERATE, CONTINUE, EDIT, SHOW = "copy", "regenerate", "continue", "edit", "show"
ACTIONS = (COPY, REGENERATE, CONTINUE, EDIT, SHOW)
# Lines that start a block of their own in Markdown: a hard break before them is useless.
_BLOCK_START = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|#|>|\||```|~~~)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def action_href(name: str, message_id: int) -> str:
    return f"{ACTION_SCHEME}:{name}:{message_id}"


def parse_action(href: str) -> tuple[str, int] | None:
    """(name, message id) of an action link, None for anything else."""
    parts = href.split(":")
    if len(parts) != 3 or parts[0] != ACTION_SCHEME or parts[1] not in ACTIONS:
        return None
    return (parts[1], int(parts[2])) if parts[2].isdigit() else None


def labels(turn: Turn) -> list[tuple[str, str | None]]:
    """The action line of a message as (text, href or None) pieces."""
    m = turn.message
    pieces: list[tuple[str, str | None]] = []
    if m.role == "assistant":
        pieces.append(("Copy", action_href(COPY, m.id)))
        pieces.append(("Regenerate", action_href(REGENERATE, m.id)))
        if m.stopped:
            pieces.append(("Continue", action_href(CONTINUE, m.id)))
    else:
        pieces.append(("Edit", action_href(EDIT, m.id)))
    if len(turn.variants) > 1:
        before, after = turn.neighbour(-1), turn.neighbour(+1)
        pieces.append(("‹", action_href(SHOW, before) if before is not None else None))
        pieces.append((turn.describe(), None))
        pieces.append(("›", action_href(SHOW, after) if after is not None else None))
    return pieces


def insert_actions(
    view: QTextEdit, cursor: QTextCursor, turn: Turn, *, at: int | None = None
) -> None:
    """Insert the action line of `turn` as a small paragraph of links, at the cursor or
    after position `at` (the end of the message's text)."""
    if at is not None:
        cursor.setPosition(at)
    block = QTextBlockFormat()
    block.setTopMargin(2.0)
    colors = chat_colors(view)
    small = QTextCharFormat()
    small.setForeground(QColor(colors.meta))
    small.setFontPointSize(max(view.font().pointSizeF() - 1.5, 6.0))
    cursor.insertBlock(block, small)
    for i, (text, href) in enumerate(labels(turn)):
        if i:
            cursor.insertText("  ", small)
        if href is None:
            cursor.insertText(text, small)
            continue
        link = QTextCharFormat(small)
        link.setAnchor(True)
        link.setAnchorHref(href)
        link.setForeground(QColor(colors.link))
        cursor.insertText(text, link)
    cursor.insertText(" ", small)
    cursor.setCharFormat(QTextCharFormat())


def keep_line_breaks(text: str) -> str:
    """Markdown in which each line break the model wrote stays a line break.

    Markdown joins a line to the next one into a paragraph, so a list of lines streamed
    as lines would be shown as one run of text when the reply is rendered. Ending such a
    line with two spaces (a hard break) keeps it; code blocks and lines that start a
    block of their own (lists, headings, quotes, tables) are left as they are.
    """
    lines = text.split("\n")
    out: list[str] = []
    in_code = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
            out.append(line)
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        joins = line.strip() and following.strip() and not _BLOCK_START.match(following)
        if not in_code and joins and not _FENCE.match(following) and not line.endswith("  "):
            line += "  "
        out.append(line)
    return "\n".join(out)
