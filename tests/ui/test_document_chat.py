"""A conversation tied to a collection shows its numbered sources; clicking one shows it
in the built-in viewer with the passage selected."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.viewer import viewer_for
from tests.ui.conftest import send


def test_sources_listed_and_opened(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    notes = tmp_path / "harbour.md"
    notes.write_text("# Harbour rules\n\nThe harbour master is Ingrid Solberg.\n")
    window.wb.documents.add([notes], "harbour")
    window.collection_picker.refresh()
    window.new_conversation()
    window.collection_picker.set_selected(["harbour"])
    window._save_params()
    current = window.current_conversation
    assert current is not None
    assert window.wb.store.conversation(current).params["collections"] == ["harbour"]

    send(qtbot, window, "Who is the harbour master?")
    assert "[1] harbour.md" in window.chat.toPlainText()

    viewer = viewer_for(window)
    with (
        qtbot.waitSignal(viewer.document_shown) as shown,
        qtbot.waitSignal(window.chat.citation_clicked) as clicked,
    ):
        window.chat.anchorClicked.emit(QUrl("cite:0"))
    assert clicked.args[0]["source"] == str(notes.resolve())
    assert shown.args == [str(notes.resolve())] and viewer.isVisible()
    assert "Ingrid Solberg" in viewer.text_view.textCursor().selectedText()
