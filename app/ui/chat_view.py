"""`ChatView`: the conversation as a read-only rich-text document.

A streaming reply is appended as plain text at the end of the document (O(1) per batch,
nothing re-rendered); when it ends, exactly that reply's text is replaced by its Markdown
rendering (code blocks, lists, tables), its citation markers as the numbers of the
sources listed under it, and a small line of figures (`app.ui.reply_render`). Before the
first word of a document answer, the reply area says what is happening ("Searching 3
collections…", then "Reading 5 passages…"). Lines are at most ~90 characters wide,
centred when the view is wider.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.branches import Turn
from app.citation import Citation
from app.store import Message
from app.ui.reply_links import ACTION_SCHEME, insert_actions, parse_action
from app.ui.reply_render import insert_figures, insert_reply, insert_sources, new_block
from app.ui.theme import chat_colors

# The reading width: about this many characters of the view's font per line.
READING_CHARS = 90
CATALOG_HREF = "goto:catalog"


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

    Use `show_messages` for a stored conversation, then `begin_reply`, `show_step` (what a
    document answer is doing before its first word), `append_stream` (per batch) and
    `end_reply` for a live one. Follows the end while the person has not scrolled up. A
    reply answered from documents lists its numbered sources, each with an excerpt, and
    its markers link to them; a link in a reply is a link only when a source has it.

    `show_thread` puts each message's actions under it as links (copy, regenerate,
    continue a stopped reply, edit, and ‹ n/m › to browse its variants).

    Signals: `citation_clicked(object)` with the `Citation` the person clicked,
    `action(str, int)` with an action's name and the message id it applies to,
    `link_opened(str)` with an address from a source the person opened,
    `catalog_requested()` from the note on a small model, `step_shown(str)` and
    `note_shown(str)` with the text of a step or a note put in the reply area.
    """

    citation_clicked = Signal(object)
    action = Signal(str, int)
    link_opened = Signal(str)
    catalog_requested = Signal()
    step_shown = Signal(str)
    note_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.document().setDocumentMargin(12)
        self._reply_start: int | None = None
        self._header_at: int | None = None
        self._step_shown = False
        # Where the actions of the message just typed go once it is stored (live send).
        self._asked_at: int | None = None
        self._follow = True
        self._citations: list[Citation] = []
        self._cited: dict[Citation, int] = {}
        self.anchorClicked.connect(self._on_anchor)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

    # building blocks ---------------------------------------------------------------------

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _header(self, cursor: QTextCursor, text: str, color: str) -> None:
        new_block(self, cursor, top_margin=14.0)
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setForeground(QColor(color))
        cursor.insertText(text, fmt)

    def _cite(self, citation: Citation) -> str:
        """The href of a link that opens `citation` (one per source: its marker in the
        text and its line under the reply share it)."""
        index = self._cited.get(citation)
        if index is None:
            index = self._cited[citation] = len(self._citations)
            self._citations.append(citation)
        return f"cite:{index}"

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == ACTION_SCHEME:
            parsed = parse_action(url.toString())
            if parsed is not None:
                self.action.emit(*parsed)
            return
        if url.toString() == CATALOG_HREF:
            self.catalog_requested.emit()
            return
        if url.scheme() == "cite" and url.path().isdigit():
            index = int(url.path())
            if index < len(self._citations):
                self.citation_clicked.emit(self._citations[index])
            return
        if url.scheme() in ("http", "https") or url.toString().startswith("www."):
            # Only links a source has are left as links (`reply_render.police_links`).
            target = url if url.scheme() else QUrl(f"https://{url.toString()}")
            self.link_opened.emit(target.toString())
            QDesktopServices.openUrl(target)

    # public ------------------------------------------------------------------------------

    def clear_conversation(self) -> None:
        self._citations.clear()
        self._cited.clear()
        self._reply_start = None
        self._header_at = None
        self._step_shown = False
        self._asked_at = None
        self._follow = True
        self.clear()
        self._fit_reading_width()

    def add_user_message(self, text: str) -> None:
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        self._header(cursor, "You", chat_colors(self).user)
        new_block(self, cursor)
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
        self._header(cursor, "Assistant", chat_colors(self).assistant)
        new_block(self, cursor)
        insert_reply(self, cursor, text, citations or [], self._cite)
        insert_sources(self, cursor, citations or [], self._cite)
        insert_figures(self, cursor, figures, stopped, badge)
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
        self._header_at = cursor.position()
        self._header(cursor, "Assistant", chat_colors(self).assistant)
        new_block(self, cursor)
        self._reply_start = cursor.position()
        self._follow = True
        self._scroll_to_end()

    def show_step(self, text: str) -> None:
        """Say in the reply area what the reply is doing before its first word; the first
        streamed text (or the end of the reply) replaces it."""
        if self._reply_start is None:
            self.begin_reply()
        assert self._reply_start is not None
        cursor = self._end_cursor()
        cursor.setPosition(self._reply_start, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        fmt = QTextCharFormat()
        fmt.setFontItalic(True)
        fmt.setForeground(QColor(chat_colors(self).step))
        cursor.insertText(text, fmt)
        self._step_shown = True
        self.step_shown.emit(text)

    def _clear_step(self) -> None:
        if self._step_shown and self._reply_start is not None:
            cursor = self._end_cursor()
            cursor.setPosition(self._reply_start, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            cursor.setCharFormat(QTextCharFormat())
        self._step_shown = False

    def show_note(self, text: str) -> None:
        """A note above the reply being written (a model too small for document answers),
        with a link to the model catalog."""
        at = self._header_at if self._header_at is not None else self._end_cursor().position()
        before = self.document().characterCount()
        cursor = QTextCursor(self.document())
        cursor.setPosition(at)
        colors = chat_colors(self)
        block = QTextBlockFormat()
        block.setTopMargin(10.0)
        block.setBackground(QColor(colors.note_background))
        fmt = QTextCharFormat()
        cursor.insertBlock(block, fmt)
        cursor.insertText(f"Note: {text} ", fmt)
        link = QTextCharFormat()
        link.setAnchor(True)
        link.setAnchorHref(CATALOG_HREF)
        link.setForeground(QColor(colors.link))
        link.setFontUnderline(True)
        cursor.insertText("Open the catalog", link)
        grown = self.document().characterCount() - before
        if self._reply_start is not None:
            self._reply_start += grown
        if self._asked_at is not None and self._asked_at > at:
            self._asked_at += grown
        self._header_at = at + grown
        self.note_shown.emit(text)

    def append_stream(self, text: str) -> None:
        """Append streamed text at the end: one cursor insert, no re-rendering."""
        if self._reply_start is None:
            self.begin_reply()
        if self._step_shown:
            self._clear_step()
        self._end_cursor().insertText(text)

    def streamed_text(self) -> str:
        if self._reply_start is None or self._step_shown:
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
        cursor.setCharFormat(QTextCharFormat())
        insert_reply(self, cursor, text, citations or [], self._cite)
        insert_sources(self, cursor, citations or [], self._cite)
        insert_figures(self, cursor, figures, stopped, badge)
        if turns:
            insert_actions(self, cursor, turns[-1])
        asked = turns[-2] if len(turns) > 1 else None
        if asked is not None and self._asked_at is not None and asked.message.role == "user":
            insert_actions(self, QTextCursor(self.document()), turns[-2], at=self._asked_at)
        cursor.endEditBlock()
        self._reply_start = None
        self._header_at = None
        self._step_shown = False
        self._asked_at = None

    # the reading width -------------------------------------------------------------------

    def reading_width(self) -> int:
        """The widest a line of text is drawn, in pixels (~90 characters)."""
        return self.fontMetrics().averageCharWidth() * READING_CHARS

    def _fit_reading_width(self) -> None:
        """Centre the text in a column of `reading_width` when the view is wider."""
        spare = self.viewport().width() - self.reading_width() - 24
        side = max(spare // 2, 0)
        root = self.document().rootFrame()
        fmt = root.frameFormat()
        if int(fmt.leftMargin()) != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            root.setFrameFormat(fmt)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_reading_width()

    # following the end -------------------------------------------------------------------

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 8
