"""The window driven from the keyboard: the focus starts in the message box, Tab leaves
it, tables are one Tab stop, Ctrl+L and Ctrl+F, the focus ring, and the README's "Using
it" path walked with keys only (the real SmolLM2 model)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from tests.ui.conftest import TIMEOUT_MS

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
TAB_LIMIT = 80  # more Tab presses than the window has controls


def active(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitActive(window):
        window.activateWindow()


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def key(qtbot: QtBot, keys: str) -> None:
    """Press `keys` on whatever has the focus, as a person would."""
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(focused(), combo.key(), combo.keyboardModifiers())


def tab_to(qtbot: QtBot, target: QWidget) -> int:
    """Press Tab until `target` has the focus; returns how many presses it took."""
    for presses in range(1, TAB_LIMIT + 1):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        if focused() is target:
            return presses
    raise AssertionError(f"Tab never reached {target!r}")


def test_focus_starts_in_the_message_box(qtbot: QtBot, window: MainWindow) -> None:
    active(qtbot, window)
    assert focused() is window.prompt
    assert window.keys.ring.target is window.prompt


def test_tab_leaves_the_message_box_and_ctrl_tab_types_a_tab(
    qtbot: QtBot, window: MainWindow
) -> None:
    active(qtbot, window)
    window.prompt.setFocus()
    qtbot.keyClicks(window.prompt, "a")
    qtbot.keyClick(window.prompt, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.prompt.toPlainText() == "a\t" and focused() is window.prompt
    qtbot.keyClick(window.prompt, Qt.Key.Key_Tab)
    assert focused() is not window.prompt and window.prompt.toPlainText() == "a\t"
    assert focused() is window.send_button
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is window.prompt


def test_the_focus_ring_follows_the_focus(qtbot: QtBot, window: MainWindow) -> None:
    active(qtbot, window)
    for widget in (window.prompt, window.conversations.search, window.params.temperature):
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        ring = window.keys.ring
        assert ring.target is widget and ring.isVisible()
        inside = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
        assert ring.geometry().contains(inside)


def test_a_table_is_one_tab_stop(qtbot: QtBot, window: MainWindow) -> None:
    active(qtbot, window)
    window.tabs.setCurrentWidget(window.models_page)
    table = window.models_page.installed_table
    qtbot.waitUntil(lambda: table.rowCount() >= 1, timeout=TIMEOUT_MS)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert focused() is not table  # not the next cell: the next control
    assert not table.tabKeyNavigation()
    assert not window.documents_page.files.tabKeyNavigation()


def test_ctrl_l_and_ctrl_f_from_each_page(qtbot: QtBot, window: MainWindow) -> None:
    active(qtbot, window)
    key(qtbot, "Ctrl+F")
    assert focused() is window.conversations.search
    key(qtbot, "Ctrl+L")
    assert focused() is window.prompt
    window.tabs.setCurrentWidget(window.documents_page)
    window.documents_page.collection_list.setFocus()
    key(qtbot, "Ctrl+F")
    assert focused() is window.documents_page.search_box
    key(qtbot, "Ctrl+L")
    assert window.tabs.currentIndex() == 0 and focused() is window.prompt
    window.tabs.setCurrentWidget(window.models_page)
    window.models_page.installed_table.setFocus()
    key(qtbot, "Ctrl+F")
    models = window.models_page
    assert models.tabs.currentWidget().isAncestorOf(models.search_box)
    # Offline (HF_HUB_OFFLINE, as in the tests) the search is off and the tab says why.
    expected = models.search_box if models.search_box.isEnabled() else models.tabs.tabBar()
    assert focused() is expected


@pytest.mark.slow
def test_the_readme_path_without_a_mouse(qtbot: QtBot, window: MainWindow) -> None:
    """New conversation, send, stop, the parameters, search by title, rename, delete
    (answering No by default), back to the message box: keys only."""
    active(qtbot, window)
    key(qtbot, "Ctrl+N")
    assert focused() is window.prompt
    qtbot.keyClicks(focused(), "Say hello")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS):
        key(qtbot, "Return")
    assert window.conversations.titles() == ["Say hello"]
    # The parameters on the right: reached with Tab, typed into.
    tab_to(qtbot, window.params.max_tokens)
    key(qtbot, "Ctrl+A")
    qtbot.keyClicks(focused(), "300")
    assert window.params.max_tokens.value() == 300
    # A long reply, stopped with Esc; what was written is kept and marked stopped.
    key(qtbot, "Ctrl+L")
    qtbot.keyClicks(focused(), "Tell me a long story about a cat.")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        key(qtbot, "Return")
        qtbot.waitUntil(lambda: window.chat.streamed_text() != "", timeout=TIMEOUT_MS)
        key(qtbot, "Escape")
    assert blocker.args[0].stats.stopped
    assert "(stopped)" in window.chat.toPlainText()
    # A second conversation, then search by title, walk the list, rename with F2.
    key(qtbot, "Ctrl+N")
    key(qtbot, "Ctrl+F")
    qtbot.keyClicks(focused(), "Say")
    assert window.conversations.titles() == ["Say hello"]
    tab_to(qtbot, window.conversations.list)
    key(qtbot, "Down")
    key(qtbot, "F2")
    editor = focused()
    qtbot.keyClicks(editor, "Greeting")
    with qtbot.waitSignal(window.conversations.renamed, timeout=TIMEOUT_MS):
        key(qtbot, "Return")
    key(qtbot, "Ctrl+F")
    key(qtbot, "Ctrl+A")
    key(qtbot, "Delete")
    assert "Greeting" in window.conversations.titles()
    # Delete from the keyboard: Enter on the question means No.
    tab_to(qtbot, window.conversations.delete_button)
    before = window.conversations.titles()

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert box is not None
        qtbot.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    key(qtbot, "Space")
    assert window.conversations.titles() == before
    active(qtbot, window)  # the offscreen platform does not hand the focus back itself
    # Export is in the File menu with its mnemonics (Alt+F, then M or J).
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "Export as &Markdown…" in texts and "Export as &JSON…" in texts
    key(qtbot, "Ctrl+L")
    assert focused() is window.prompt


def test_the_settings_dialog_has_the_ring_and_one_stop_tables(
    qtbot: QtBot, window: MainWindow
) -> None:
    from PySide6.QtWidgets import QAbstractItemView

    from app.ui.keyboard import FocusRing
    from tests.ui.test_settings import close_settings, open_settings

    dialog = open_settings(qtbot, window)
    assert dialog.findChild(FocusRing) is not None
    views = dialog.findChildren(QAbstractItemView)
    assert views and not any(v.tabKeyNavigation() for v in views)
    close_settings(qtbot, dialog)
