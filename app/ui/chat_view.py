"""`ChatView`: the conversation as a read-only rich-text document.

A streaming reply is appended as plain text at the end of the document (O(1) per batch,
nothing re-rendered); when it ends, exactly that reply's text is replaced by its Markdown
rendering (code blocks, lists, tables) and a small line of figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocumentFragment,
    QTextFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.branches import Turn
from app.citation import Citation
from app.store import Message
from app.ui.reply_links import ACTION_SCHEME, insert_actions, keep_line_breaks, parse_action

USER_COLOR = "#1f5fa8"
ASSISTANT_COLOR = "#2d6a3e"
META_COLOR = "#7a7a7a"
STOPPED_COLOR = "#b3261e"
CODE_BACKGROUND = "#f3f3f3"
# The badge under each reply says where it was written: (text colour, background).
BADGE_COLORS = {
    "on-device": ("#1d6b35", "#e3f4e8"),
    "self-hosted": ("#1f4f8a", "#e4eefa"),
    "third-party": ("#8a4b00", "#fdf0dc"),
}


def reply_badge(stats: dict[str, Any]) -> str:
    """Where a reply was written: on-device, self-hosted or third-party."""
    badge = stats.get("badge")
    return str(badge) if isinstance(badge, str) and badge else "on-device"


def reply_figures(stats: dict[str, Any], model: str = "") -> str:
    """The small line under a reply: model, speed and length."""
    parts = []
    name = model or str(stats.get("model", ""))
    if name:
        parts.append(name)
    tps = stats.get("tokens_per_s")
    if isinstance(tps, int | float) and tps > 0:
        parts.append(f"{tps:.1f} tok/s")
    n = stats.get("completion_tokens")
    if isinstance(n, int) and n > 0:
        parts.append(f"{n} tokens")
    dropped = stats.get("dropped_turns")
    if isinstance(dropped, int) and dropped > 0:
        parts.append(f"{dropped} old turns left out to fit the context")
    reason = stats.get("fallback_reason")
    if isinstance(reason, str) and reason:
        parts.append(f"fallback ({reason[:80]})")
    return " · ".join(parts)


class ChatView(QTextBrowser):
    """Shows a conversation: person's messages, rendered replies, and the reply streaming in.

    Use `show_messages` for a stored conversation, then `begin_reply`, `append_stream` (per
    batch) and `end_reply` for a live one. Follows the end while the person has not
    scrolled up. A reply answered from documents lists its numbered sources.

    `show_thread` puts each message's actions under it as links (copy, regenerate,
    continue a stopped reply, edit, and ‹ n/m › to browse its variants).

    Signals: `citation_clicked(object)` with the `Citation` the person clicked,
    `action(str, int)` with an action's name and the message id it applies to.
    """

    citation_clicked = Signal(object)
    action = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.document().setDocumentMargin(12)
        self._reply_start: int | None = None
        # Where the actions of the message just typed go once it is stored (live send).
        self._asked_at: int | None = None
        self._follow = True
        self._citations: list[Citation] = []
        self.anchorClicked.connect(self._on_anchor)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

    # building blocks ---------------------------------------------------------------------

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _new_block(self, cursor: QTextCursor, *, top_margin: float = 0.0) -> None:
        """Start a fresh, unformatted paragraph (no list, code or table carried over)."""
        block = QTextBlockFormat()
        block.setTopMargin(top_margin)
        if self.document().isEmpty():
            cursor.setBlockFormat(block)
            cursor.setBlockCharFormat(QTextCharFormat())
        else:
            cursor.insertBlock(block, QTextCharFormat())

    def _header(self, cursor: QTextCursor, text: str, color: str) -> None:
        self._new_block(cursor, top_margin=14.0)
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(QColor(color))
        cursor.insertText(text, fmt)

    def _figures(self, cursor: QTextCursor, figures: str, stopped: bool, badge: str) -> None:
        if not figures and not stopped and not badge:
            return
        self._new_block(cursor, top_margin=2.0)
        small = QTextCharFormat()
        small.setForeground(QColor(META_COLOR))
        small.setFontPointSize(max(self.font().pointSizeF() - 1.5, 6.0))
        if badge:
            fg, bg = BADGE_COLORS.get(badge, BADGE_COLORS["third-party"])
            mark = QTextCharFormat(small)
            mark.setForeground(QColor(fg))
            mark.setBackground(QColor(bg))
            mark.setFontWeight(QFont.Weight.Bold)
            cursor.insertText(f" {badge} ", mark)
            if figures or stopped:
                cursor.insertText(" · ", small)
        if stopped:
            red = QTextCharFormat(small)
            red.setForeground(QColor(STOPPED_COLOR))
            cursor.insertText("(stopped)", red)
            if figures:
                cursor.insertText(" · ", small)
        cursor.insertText(figures, small)

    def _sources(self, cursor: QTextCursor, citations: list[Citation]) -> None:
        """'[n] file.pdf p. 3 › heading' per source, each a link that opens the document."""
        small = QTextCharFormat()
        small.setForeground(QColor(META_COLOR))
        small.setFontPointSize(max(self.font().pointSizeF() - 1.5, 6.0))
        for c in citations:
            self._new_block(cursor, top_margin=1.0)
            link = QTextCharFormat(small)
            link.setAnchor(True)
            link.setAnchorHref(f"cite:{len(self._citations)}")
            link.setForeground(QColor(USER_COLOR))
            link.setFontUnderline(True)
            self._citations.append(c)
            cursor.insertText(f"[{c.n or '?'}] {c.where}", link)

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == ACTION_SCHEME:
            parsed = parse_action(url.toString())
            if parsed is not None:
                self.action.emit(*parsed)
            return
        if url.scheme() == "cite" and url.path().isdigit():
            index = int(url.path())
            if index < len(self._citations):
                self.citation_clicked.emit(self._citations[index])

    def _markdown(self, cursor: QTextCursor, text: str) -> None:
        self._new_block(cursor)
        self._insert_markdown(cursor, text)

    def _insert_markdown(self, cursor: QTextCursor, text: str) -> None:
        """Insert rendered Markdown at the cursor and shade its code blocks."""
        if not text.strip():
            return
        start = cursor.position()
        cursor.insertFragment(QTextDocumentFragment.fromMarkdown(keep_line_breaks(text)))
        block = self.document().findBlock(start)
        end = cursor.position()
        while block.isValid() and block.position() <= end:
            fmt = block.blockFormat()
            if fmt.hasProperty(QTextFormat.Property.BlockCodeFence) or fmt.nonBreakableLines():
                shaded = QTextCursor(block)
                fmt.setBackground(QColor(CODE_BACKGROUND))
                shaded.setBlockFormat(fmt)
            block = block.next()

    # public ------------------------------------------------------------------------------

    def clear_conversation(self) -> None:
        self._citations.clear()
        self._reply_start = None
        self._asked_at = None
        self._follow = True
        self.clear()

    def add_user_message(self, text: str) -> None:
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        self._header(cursor, "You", USER_COLOR)
        self._new_block(cursor)
        cursor.insertText(text, QTextCharFormat())
        cursor.endEditBlock()
        self._asked_at = cursor.position()
        self._follow = True
        self._scroll_to_end()

    def add_reply(
        self,
        text: str,
        figures: str = "",
        stopped: bool = False,
        badge: str = "",
        citations: list[Citation] | None = None,
    ) -> None:
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        self._header(cursor, "Assistant", ASSISTANT_COLOR)
        self._markdown(cursor, text)
        self._sources(cursor, citations or [])
        self._figures(cursor, figures, stopped, badge)
        cursor.endEditBlock()

    def show_messages(self, messages: list[Message]) -> None:
        """Show messages with no variants and no actions (a plain transcript)."""
        self.show_thread([Turn(m, (m.id,)) for m in messages], actions=False)

    def show_thread(self, turns: list[Turn], *, actions: bool = True) -> None:
        """Show a conversation's branch; `actions` puts each message's links under it.
        Keeps the reading position if the person had scrolled up."""
        bar = self.verticalScrollBar()
        follow, value = self._follow, bar.value()
        self.setUpdatesEnabled(False)
        try:
            self.clear_conversation()
            for turn in turns:
                m = turn.message
                if m.role == "user":
                    self.add_user_message(m.text)
                elif m.role == "assistant":
                    figures = reply_figures(m.stats, m.model)
                    self.add_reply(
                        m.text,
                        figures,
                        m.stopped,
                        reply_badge(m.stats),
                        m.citations,
                    )
                else:
                    continue
                if actions:
                    insert_actions(self, self._end_cursor(), turn)
            self._asked_at = None
        finally:
            self.setUpdatesEnabled(True)
        self._follow = follow
        if follow:
            self._scroll_to_end()
        else:
            bar.setValue(value)

    @property
    def streaming(self) -> bool:
        return self._reply_start is not None

    def begin_reply(self) -> None:
        cursor = self._end_cursor()
        self._header(cursor, "Assistant", ASSISTANT_COLOR)
        self._new_block(cursor)
        self._reply_start = cursor.position()
        self._follow = True
        self._scroll_to_end()

    def append_stream(self, text: str) -> None:
        """Append streamed text at the end: one cursor insert, no re-rendering."""
        if self._reply_start is None:
            self.begin_reply()
        self._end_cursor().insertText(text)

    def streamed_text(self) -> str:
        if self._reply_start is None:
            return ""
        cursor = self._end_cursor()
        cursor.setPosition(self._reply_start, QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText().replace("\u2029", "\n")

    def end_reply(
        self,
        text: str,
        figures: str = "",
        stopped: bool = False,
        badge: str = "",
        citations: list[Citation] | None = None,
        turns: Sequence[Turn] = (),
    ) -> None:
        """Replace the streamed plain text of the reply with its rendered Markdown.

        `turns` are the stored reply and the message it answers (last two of the
        thread): the reply gets its action links, and so does the message if it was
        typed live (`add_user_message`). The rest of the conversation is not touched, so
        this costs the reply's length, not the conversation's."""
        if self._reply_start is None:
            self.begin_reply()
        assert self._reply_start is not None
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        cursor.setPosition(self._reply_start, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._insert_markdown(cursor, text)
        self._sources(cursor, citations or [])
        self._figures(cursor, figures, stopped, badge)
        if turns:
            insert_actions(self, cursor, turns[-1])
        asked = turns[-2] if len(turns) > 1 else None
        if asked is not None and self._asked_at is not None and asked.message.role == "user":
            insert_actions(self, QTextCursor(self.document()), turns[-2], at=self._asked_at)
        cursor.endEditBlock()
        self._reply_start = None
        self._asked_at = None

    # following the end -------------------------------------------------------------------

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 8
