"""Errors where they happen: each page shows its own, until dismissed or resolved, and
none on another page or in the status bar; a folder import goes on past a bad file. And
the small things of the chat: No is the default answer to a delete, an export's file
name, line breaks kept when a reply is rendered."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.ui.chat_view import ChatView
from app.ui.files import suggested_name
from app.ui.main_window import MainWindow
from app.ui.widgets import confirmation
from tests.ui.conftest import TIMEOUT_MS, open_window

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def idle_window(qtbot: QtBot, carrel_home: Path) -> Iterator[MainWindow]:
    """A window with no model loaded (the pages' errors need none)."""
    w = open_window(qtbot, load=False)
    yield w
    w.close()


def test_a_documents_error_stays_on_the_documents_page(
    qtbot: QtBot, idle_window: MainWindow, tmp_path: Path
) -> None:
    w = idle_window
    w.tabs.setCurrentWidget(w.documents_page)
    with qtbot.waitSignal(w.documents_errors.shown) as shown:
        w.documents_page.add_paths([tmp_path])  # no collection yet
    assert "Create a collection first" in shown.args[0]
    assert w.documents_errors.isVisible()
    assert w.error_bar.message == "" and w.models_errors.message == ""
    assert w.status.currentMessage() == ""
    w.tabs.setCurrentIndex(0)
    w.tabs.setCurrentWidget(w.documents_page)
    assert w.documents_errors.message == shown.args[0]  # still there when you come back
    w.documents_errors.dismiss()
    assert not w.documents_errors.isVisible()


def test_a_models_error_stays_on_the_models_page(
    qtbot: QtBot, idle_window: MainWindow, tmp_path: Path
) -> None:
    w = idle_window
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model" * 100)
    w.tabs.setCurrentWidget(w.models_page)
    with qtbot.waitSignal(w.models_errors.shown, timeout=TIMEOUT_MS):
        w.models_page.import_path(bad)
    assert "broken.gguf" in w.models_errors.message
    assert w.error_bar.message == "" and w.documents_errors.message == ""
    assert "Not imported broken.gguf" in w.models_page.details.toPlainText()


def test_a_folder_import_goes_on_past_a_bad_file(
    qtbot: QtBot, idle_window: MainWindow, smollm_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-broken.gguf").write_bytes(b"GGUF" + b"\0" * 64)
    shutil.copyfile(smollm_path, folder / "b-good.gguf")
    (folder / "c-notes.gguf").write_text("notes, not a model\n")
    page = idle_window.models_page
    with qtbot.waitSignal(page.imported, timeout=TIMEOUT_MS) as imported:
        page.import_path(folder, link=True)
    assert [r.name for r in imported.args[0]] == ["b-good"]
    details = page.details.toPlainText()
    assert "Imported b-good." in details
    assert "Not imported a-broken.gguf" in details and "Not imported c-notes.gguf" in details
    assert "2 of 3 files were not imported" in idle_window.models_errors.message
    assert (page.library.models_dir / "b-good.gguf").exists()


def test_an_import_that_cannot_start_says_so_in_the_details(
    qtbot: QtBot, idle_window: MainWindow, tmp_path: Path
) -> None:
    page = idle_window.models_page
    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(idle_window.models_errors.shown, timeout=TIMEOUT_MS):
        page.import_path(empty)
    assert page.details.toPlainText().startswith("Import failed: There are no .gguf files")


def test_a_chat_error_goes_with_its_conversation(qtbot: QtBot, idle_window: MainWindow) -> None:
    w = idle_window
    w.new_conversation()
    first = w.current_conversation
    w.new_conversation()
    w.show_error("The remote endpoint failed: connection refused.")
    assert w.error_bar.message
    w.conversations.select(first or -1)
    assert w.current_conversation == first
    assert w.error_bar.message == ""


def test_deleting_asks_with_no_as_the_default(qtbot: QtBot, idle_window: MainWindow) -> None:
    box = confirmation(idle_window, "Carrel", "Delete it?")
    qtbot.addWidget(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.No)


def test_export_names_keep_the_title_without_the_ellipsis() -> None:
    title = "Explain how RAID 5 survives one failed disk and…"
    assert suggested_name(title, "md") == "Explain how RAID 5 survives one failed disk and.md"
    assert suggested_name("What's a B-tree? (short)", "json") == "What_s a B-tree_ _short.json"
    assert suggested_name("…", "md") == "conversation.md"


def test_line_breaks_seen_while_streaming_stay_when_rendered(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    text = "Steps:\nOpen the case\nSwap the disk\n\n- a list\n- stays\n\n```\ncode\nkept\n```"
    view.begin_reply()
    view.append_stream(text)
    streamed = view.toPlainText()
    view.end_reply(text)
    rendered = view.toPlainText()
    for lines in ("Steps:\nOpen the case\nSwap the disk", "code\nkept"):
        assert lines in streamed and lines in rendered
    assert "a list\nstays" in rendered
