"""The main window with the real SmolLM2 model: streaming, stop, restart, conversations,
errors and export. Waits on signals only."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.logs import LogFile
from app.ui import launch
from app.ui.main_window import MainWindow
from tests.ui.conftest import TIMEOUT_MS, open_window, send

# The offscreen platform cannot pass size hints to a window manager and says so each time
# a layout changes the window's minimum size; that is the platform, not the app.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def test_window_starts_with_the_default_model_on_device(window: MainWindow) -> None:
    loaded = window.wb.loaded_model
    assert loaded is not None and loaded.name == window.wb.settings.model.default
    assert loaded.name in window.status.model.text()
    assert window.status.badge.text() == "On-device"
    assert window.send_button.isEnabled()
    assert loaded.name in window.model_panel.names()


def test_enter_sends_and_tokens_stream_into_the_view(qtbot: QtBot, window: MainWindow) -> None:
    window.params.max_tokens.setValue(40)
    batches: list[str] = []  # appended on the worker's thread: a plain list is enough
    window.reply_started.connect(lambda worker: worker.tokens.connect(batches.append))
    window.prompt.setPlainText("Say hello")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.chat.streamed_text() != "", timeout=TIMEOUT_MS)
        partial = window.chat.streamed_text()
    done = blocker.args[0]
    assert done is not None and done.text.strip()
    assert done.text.startswith(partial)  # streamed as plain text, then rendered
    assert "".join(batches) == done.text
    assert window.prompt.toPlainText() == ""
    assert "Say hello" in window.chat.toPlainText()
    assert done.stats.model in window.chat.toPlainText()  # the reply's small figures
    assert done.stats.badge == "on-device" and " on-device " in window.chat.toPlainText()
    assert "tok/s" in window.status.speed.text()
    messages = window.wb.store.messages(window.current_conversation or -1)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert window.conversations.titles() == ["Say hello"]


def test_shift_enter_inserts_a_newline(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.prompt, "one")
    qtbot.keyClick(window.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.prompt, "two")
    assert window.prompt.toPlainText() == "one\ntwo"
    assert not window.generating


def test_stop_keeps_the_partial_reply_marked_stopped(qtbot: QtBot, window: MainWindow) -> None:
    window.params.max_tokens.setValue(400)
    batches: list[str] = []
    window.reply_started.connect(lambda w: w.tokens.connect(batches.append))
    window.prompt.setPlainText("Write a long story about a lighthouse keeper.")
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        window.send()
        qtbot.waitUntil(lambda: bool(batches), timeout=TIMEOUT_MS)
        window.activateWindow()
        window.prompt.setFocus()
        qtbot.keyClick(window.prompt, Qt.Key.Key_Escape)
    done = blocker.args[0]
    assert done.stats.stopped
    assert 0 < done.stats.completion_tokens < 400
    last = window.wb.store.messages(window.current_conversation or -1)[-1]
    assert last.role == "assistant" and last.stopped and last.text == done.text
    assert "(stopped)" in window.chat.toPlainText()
    assert not window.generating and window.send_button.isEnabled()


def test_stop_button(qtbot: QtBot, window: MainWindow) -> None:
    window.params.max_tokens.setValue(400)
    window.reply_started.connect(lambda w: window.stop_button.click())
    done = send(qtbot, window, "Tell me about rivers.")
    assert done.stats.stopped


def test_conversations_survive_a_restart(qtbot: QtBot, carrel_home: Path) -> None:
    first = open_window(qtbot)
    done = send(qtbot, first, "Name a colour")
    cid = first.current_conversation
    first.close()

    second = open_window(qtbot, load=False)
    assert second.conversations.titles() == ["Name a colour"]
    assert second.current_conversation == cid
    text = second.chat.toPlainText()
    assert "Name a colour" in text and done.text.split()[0] in text
    second.close()


def test_ctrl_n_rename_search_delete(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(window.wb.store.conversations()) == 2
    newest = window.current_conversation
    assert newest is not None

    item = window.conversations.list.currentItem()
    item.setText("Budget notes")  # what an inline rename does
    assert window.wb.store.conversation(newest).title == "Budget notes"
    assert "Budget notes" in window.conversations.titles()

    window.conversations.search.setText("Budg")
    assert window.conversations.titles() == ["Budget notes"]
    window.conversations.search.setText("zzz")
    assert window.conversations.titles() == []
    window.conversations.search.clear()
    assert len(window.conversations.titles()) == 2

    window.conversations.select(newest)
    window.confirm = lambda _q: True  # type: ignore[method-assign]
    window.conversations.delete_button.click()
    assert [c.title for c in window.wb.store.conversations()] == ["New conversation"]
    assert window.current_conversation is not None


def test_parameters_are_saved_to_the_conversation(qtbot: QtBot, window: MainWindow) -> None:
    window.new_conversation()
    cid = window.current_conversation
    assert cid is not None
    window.params.temperature.setValue(0.2)
    window.params.system_prompt.setPlainText("Answer in French.")
    window.params.flush()
    c = window.wb.store.conversation(cid)
    assert c.params["temperature"] == 0.2 and c.system_prompt == "Answer in French."


def test_a_bad_model_file_shows_its_error_and_the_app_stays_usable(
    qtbot: QtBot, window: MainWindow
) -> None:
    (window.wb.paths.models_dir / "bad.gguf").write_bytes(b"")
    with qtbot.waitSignal(window.models_listed, timeout=TIMEOUT_MS):
        window.start(load_default=False)
    combo = window.model_panel.combo
    index = combo.findData("bad")
    assert index >= 0
    with qtbot.waitSignal(window.error_bar.shown, timeout=TIMEOUT_MS) as blocker:
        combo.activated.emit(index)
    assert "bad.gguf" in blocker.args[0] and "GGUF" in blocker.args[0]
    assert window.error_bar.message == blocker.args[0]
    qtbot.waitUntil(lambda: window.send_button.isEnabled(), timeout=TIMEOUT_MS)
    loaded = window.wb.loaded_model
    assert loaded is not None and loaded.name == window.wb.settings.model.default
    assert combo.currentData() == loaded.name

    done = send(qtbot, window, "Hi")
    assert done is not None and done.text
    assert window.error_bar.message == ""  # sending clears the old error


def test_export_markdown_and_json(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    done = send(qtbot, window, "Name a fruit")
    md, js = tmp_path / "chat.md", tmp_path / "chat.json"
    assert window.export_markdown(md)
    assert window.export_json(js)
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Name a fruit") and done.text.strip() in text
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert not window.export_markdown(tmp_path / "missing-folder" / "x.md")
    assert "Cannot write" in window.error_bar.message


def test_unexpected_exception_is_logged_and_shown(
    qtbot: QtBot, window: MainWindow, carrel_home: Path
) -> None:
    logs = LogFile(window.wb.paths.logs_dir)
    log_file = logs.path
    saved = sys.excepthook
    try:
        launch.install_excepthook(window, log_file)
        try:
            raise ValueError("boom")
        except ValueError as exc:
            sys.excepthook(ValueError, exc, exc.__traceback__)
    finally:
        sys.excepthook = saved
        import threading

        threading.excepthook = threading.__excepthook__
        logs.close()
    assert window.error_bar.message == (
        f"Unexpected error (ValueError: boom) — details in {log_file}"
    )
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "ValueError: boom" in logged
    logging.getLogger().handlers  # noqa: B018 (the handler is gone)
    done = send(qtbot, window, "Still there?")
    assert done is not None


def test_the_message_box_has_the_focus_at_start(qtbot: QtBot, carrel_home: Path) -> None:
    window = open_window(qtbot, load=False)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.prompt)
    window.close()


def test_use_in_chat_from_the_models_page_loads_that_model_on_the_chat_page(
    qtbot: QtBot, window: MainWindow
) -> None:
    with qtbot.waitSignal(window.models_listed, timeout=TIMEOUT_MS):
        window.start(load_default=False)
    window.tabs.setCurrentWidget(window.models_page)
    name = window.wb.settings.model.default
    assert window.models_page.select_installed(name)
    window.models_page.use_button.click()
    assert window.tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: window.send_button.isEnabled(), timeout=TIMEOUT_MS)
    loaded = window.wb.loaded_model
    assert loaded is not None and loaded.name == name
    assert window.model_panel.combo.currentData() == name
