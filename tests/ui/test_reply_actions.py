"""Reply actions in the window with the real SmolLM2 model: copy, regenerate (variants
kept and browsed), continue a stopped reply, edit an earlier message and send it again
(both branches kept), from the links under the messages and from the keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QTextCursor
from PySide6.QtWidgets import QTextBrowser
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.reply_actions import EDIT_NOTE
from app.ui.reply_links import parse_action
from tests.ui.conftest import TIMEOUT_MS, send

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def press(qtbot: QtBot, window: MainWindow, keys: str) -> None:
    """Press a shortcut where the person is: in the message box of the active window."""
    with qtbot.waitActive(window):
        window.activateWindow()
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(window.prompt, combo.key(), combo.keyboardModifiers())


def links(view: QTextBrowser) -> list[tuple[str, int, QPoint]]:
    """The action links in the chat: (name, message id, a point inside the link)."""
    found = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            parsed = parse_action(fragment.charFormat().anchorHref())
            if parsed is not None:
                cursor = QTextCursor(view.document())
                cursor.setPosition(fragment.position())
                start = view.cursorRect(cursor)
                cursor.setPosition(fragment.position() + fragment.length())
                end = view.cursorRect(cursor)
                found.append(
                    (*parsed, QPoint((start.left() + end.left()) // 2, start.center().y()))
                )
            it += 1
        block = block.next()
    return found


def click_link(qtbot: QtBot, window: MainWindow, name: str, which: int = -1) -> int:
    """Click the `which`-th link called `name` with the mouse; returns its message id."""
    matching = [(mid, point) for n, mid, point in links(window.chat) if n == name]
    assert matching, f"no '{name}' link in the chat"
    mid, point = matching[which]
    window.chat.ensureCursorVisible()
    qtbot.mouseClick(window.chat.viewport(), Qt.MouseButton.LeftButton, pos=point)
    return mid


def test_regenerate_keeps_variants_and_the_keyboard_browses_them(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.params.seed.setValue(-1)  # a fresh sample each time
    window.params.temperature.setValue(1.0)
    first = send(qtbot, window, "Name an animal.")
    assert [n for n, _, _ in links(window.chat)] == ["edit", "copy", "regenerate"]
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        press(qtbot, window, "Ctrl+R")
    second = blocker.args[0]
    cid = window.current_conversation or -1
    thread = window.wb.turns.thread(cid)
    assert len(thread) == 2 and thread[-1].describe() == "2/2"
    assert thread[-1].message.text == second.text
    assert "2/2" in window.chat.toPlainText()
    assert first.text.strip() in [
        v.text.strip() for v in window.wb.turns.branches.variants(thread[-1].message.id)
    ]
    press(qtbot, window, "Alt+Left")
    assert window.wb.turns.thread(cid)[-1].describe() == "1/2"
    assert "1/2" in window.chat.toPlainText()
    assert window.wb.store.messages(cid)[-1].text == first.text
    press(qtbot, window, "Alt+Right")
    assert window.wb.turns.thread(cid)[-1].message.text == second.text
    # The links do the same with the mouse: ‹ shows the previous variant.
    click_link(qtbot, window, "show", 0)
    assert window.wb.turns.thread(cid)[-1].describe() == "1/2"


def test_copy_puts_the_reply_on_the_clipboard(qtbot: QtBot, window: MainWindow) -> None:
    done = send(qtbot, window, "Say hi.")
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(window.reply_actions.copied) as copied:
        press(qtbot, window, "Ctrl+Shift+C")
    assert copied.args[0] == done.text == QGuiApplication.clipboard().text()
    QGuiApplication.clipboard().clear()
    click_link(qtbot, window, "copy")
    assert QGuiApplication.clipboard().text() == done.text


def test_continue_goes_on_with_a_stopped_reply(qtbot: QtBot, window: MainWindow) -> None:
    window.params.max_tokens.setValue(400)
    window.prompt.setPlainText("Write a long story about a lighthouse keeper.")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        window.send()
        qtbot.waitUntil(lambda: window.chat.streamed_text() != "", timeout=TIMEOUT_MS)
        qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    stopped = blocker.args[0]
    assert stopped.stats.stopped
    assert [n for n, _, _ in links(window.chat)][-1] == "continue"
    window.params.max_tokens.setValue(10)
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        press(qtbot, window, "Ctrl+Shift+Return")
    whole = blocker.args[0]
    assert whole.text.startswith(stopped.text) and len(whole.text) > len(stopped.text)
    thread = window.wb.turns.thread(window.current_conversation or -1)
    assert len(thread) == 2 and thread[-1].message.text == whole.text
    assert thread[-1].describe() == ""  # continued in place, not a new variant


def test_edit_and_resend_branches_and_both_branches_stay(qtbot: QtBot, window: MainWindow) -> None:
    send(qtbot, window, "Say one.")
    send(qtbot, window, "Say two.")
    cid = window.current_conversation or -1
    old = [t.message.id for t in window.wb.turns.thread(cid)]
    # Ctrl+Shift+E puts the last message of yours in the box; Esc leaves it.
    press(qtbot, window, "Ctrl+Shift+E")
    assert window.prompt.toPlainText() == "Say two."
    assert (
        window.chat_panel.edit_note.isVisible() and window.chat_panel.edit_note.text() == EDIT_NOTE
    )
    qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    assert window.reply_actions.editing is None and window.prompt.toPlainText() == ""
    # The Edit link under the first message, with the mouse; then Enter sends the change.
    edited = click_link(qtbot, window, "edit", 0)
    assert edited == old[0] and window.prompt.toPlainText() == "Say one."
    window.prompt.selectAll()
    qtbot.keyClicks(window.prompt, "Say three.")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS):
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    thread = window.wb.turns.thread(cid)
    assert thread[0].message.text == "Say three."
    assert len(thread) == 2 and thread[0].describe() == "2/2"
    assert "Say two." not in window.chat.toPlainText()
    assert window.conversations.titles() == ["Say one."]  # the title stays
    # ‹ under the first message goes back to the old branch, whole.
    click_link(qtbot, window, "show", 0)
    assert [t.message.id for t in window.wb.turns.thread(cid)] == old
    assert "Say two." in window.chat.toPlainText()


def test_actions_wait_while_a_reply_runs(qtbot: QtBot, window: MainWindow) -> None:
    send(qtbot, window, "Hello.")
    window.params.max_tokens.setValue(300)
    window.prompt.setPlainText("Tell a long story.")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS):
        window.send()
        press(qtbot, window, "Ctrl+R")  # ignored: a reply is running
        press(qtbot, window, "Ctrl+Shift+E")
        assert window.reply_actions.editing is None
        window.stop()
    assert len(window.wb.turns.thread(window.current_conversation or -1)) == 4
