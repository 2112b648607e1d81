"""Answers you can check (issue 17, item 1): the retrieval step in the reply area while a
document answer is prepared, markers as the source list's numbers with unknown ones
flagged, links only from sources, an excerpt under each source, and the note on a model
too small for document answers, once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.markers import check_answer
from app.ui.chat_view import ChatView
from app.ui.main_window import MainWindow
from tests.ui.conftest import send


def anchors(doc: QTextDocument) -> dict[str, str]:
    """Each link of the document: its text and its href."""
    found: dict[str, str] = {}
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                found[it.fragment().text()] = fmt.anchorHref()
            it += 1
        block = block.next()
    return found


def tie_to_collection(window: MainWindow, tmp_path: Path) -> Path:
    notes = tmp_path / "harbour.md"
    notes.write_text("# Harbour rules\n\nThe harbour master is Ingrid Solberg.\n")
    window.wb.documents.add([notes], "harbour")
    window.collection_picker.refresh()
    window.collection_picker.set_selected(["harbour"])
    window._save_params()
    return notes


def test_retrieval_step_then_the_reply_and_the_small_model_note_once(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.new_conversation()
    send(qtbot, window, "Say hello.")  # a reply without documents: its speed is shown
    assert window.status.speed.text().endswith("tok/s")

    tie_to_collection(window, tmp_path)
    seen: list[tuple[str, str, str]] = []
    window.chat.step_shown.connect(
        lambda text: seen.append((text, window.status.speed.text(), window.chat.toPlainText()))
    )
    with qtbot.waitSignal(window.chat.note_shown, timeout=60_000) as noted:
        send(qtbot, window, "Who is the harbour master?")
    # Searching, then reading, each in the reply area, the old speed gone meanwhile.
    assert [s[0] for s in seen] == ["Searching 1 collection…", "Reading 1 passage…"]
    assert all(speed == "" for _, speed, _ in seen)
    assert all(text in shown for text, _, shown in seen)
    # The reply replaced the step; its source is listed with an excerpt of the passage.
    shown = window.chat.toPlainText()
    assert "Reading 1 passage" not in shown and "Searching" not in shown
    assert "[1] harbour.md" in shown and "The harbour master is Ingrid Solberg." in shown
    assert window.status.speed.text().endswith("tok/s")
    # Copy gives the reply with its markers as shown.
    current = window.current_conversation
    assert current is not None
    stored = window.wb.store.messages(current)[-1]
    with qtbot.waitSignal(window.reply_actions.copied) as copied:
        window.reply_actions.copy()
    assert copied.args[0] == check_answer(stored.text, stored.citations).text
    # The 135M default is too small for document answers: said once, with the catalog.
    loaded = window.wb.loaded_model
    assert loaded is not None and loaded.name in noted.args[0] and "135M" in noted.args[0]
    assert "Open the catalog" in shown
    with qtbot.assertNotEmitted(window.chat.note_shown):
        send(qtbot, window, "And who is the deputy?")
    window.chat.anchorClicked.emit(QUrl("goto:catalog"))
    assert window.tabs.currentWidget() is window.models_page
    assert window.models_page.tabs.currentWidget() is window.models_page.catalog_table


SOURCES = [
    Citation("/docs/manual.pdf", page=3, text="Install it with apt-get install carrel.", n=1),
    Citation(
        "/docs/manual.pdf",
        page=9,
        text="The guide is at https://example.org/guide/install for everyone.",
        n=2,
    ),
]


def test_markers_normalised_unknown_flagged_links_only_from_sources(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_reply()
    view.append_stream("streamed…")
    text = (
        "Install it with apt [1] (manual.pdf p. 3). The guide [1] (manual.pdf p. 9) is at "
        "https://example.org/guide/install, see also https://made.up/page and "
        "[the FAQ](https://made.up/faq). Also [7].\n\n```\nrows[7]\n```"
    )
    view.end_reply(text, citations=SOURCES)
    shown = view.toPlainText()
    assert "apt [1]. The guide [2] is at" in shown
    assert "Also [7?]." in shown and "rows[7]" in shown
    links = anchors(view.document())
    # The markers open their sources; the unknown one is no link.
    assert links["[1]"].startswith("cite:") and links["[2]"].startswith("cite:")
    assert "[7?]" not in links
    # Only the address a source has is a link; the made-up ones are plain text.
    assert links["https://example.org/guide/install"] == "https://example.org/guide/install"
    assert not any("made.up" in href for href in links.values())
    assert "https://made.up/page" in shown and "the FAQ (https://made.up/faq)" in shown
    # Each source under the reply, with an excerpt of its passage.
    assert "[1] manual.pdf p. 3\nInstall it with apt-get install carrel." in shown
    with qtbot.waitSignal(view.citation_clicked) as clicked:
        view.anchorClicked.emit(QUrl(links["[2]"]))
    assert clicked.args[0].page == 9


def test_a_reply_without_sources_has_no_links(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.end_reply("Visit https://example.org/guide/install now [1].")
    assert anchors(view.document()) == {}
    assert "now [1]." in view.toPlainText()  # no sources: nothing to flag
