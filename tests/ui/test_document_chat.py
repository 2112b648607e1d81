"""A conversation tied to a collection shows its numbered sources; clicking one shows it
in the built-in viewer with the passage selected."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    assert clicked.args[0].source == str(notes.resolve())
    assert shown.args == [str(notes.resolve())] and viewer.isVisible()
    assert "Ingrid Solberg" in viewer.text_view.textCursor().selectedText()


# Opening the viewer a second time brings it to the front, which offscreen cannot do.
@pytest.mark.qt_log_ignore("does not support propagateSizeHints", "does not support raise")
def test_a_source_opens_the_cited_one_of_two_same_passages(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """The same rule under two headings: each numbered source opens its own, because the
    reply stored the passages' offsets, not only their words."""
    rule = "Boats must be moored bow first and tied at two points at least."
    notes = tmp_path / "moorings.md"
    notes.write_text(f"# Rules\n\n## Summer\n\n{rule}\n\n## Winter\n\n{rule}\n")
    window.wb.documents.add([notes], "moorings")
    window.collection_picker.refresh()
    window.new_conversation()
    window.collection_picker.set_selected(["moorings"])
    window._save_params()
    send(qtbot, window, "How must boats be moored?")
    current = window.current_conversation
    assert current is not None
    stored = window.wb.store.messages(current)[-1].citations
    assert sum(rule in c.text for c in stored) == 2 and all(c.end > c.start for c in stored)

    viewer = viewer_for(window)
    selected = []
    for n in range(2):
        with qtbot.waitSignal(viewer.document_shown):
            window.chat.anchorClicked.emit(QUrl(f"cite:{n}"))
        cursor = viewer.text_view.textCursor()
        assert cursor.selectedText() == rule
        selected.append(cursor.selectionStart())
    shown = viewer.text_view.toPlainText()
    assert sorted(selected) == [shown.index(rule), shown.rindex(rule)]
