"""The built-in viewer as a person uses it: a cited PDF opens at its page with the passage
marked, pages turn by button, box and key, zoom changes the page's size; a Markdown or text
file opens with the passage selected; a gone, encrypted or damaged file says so in a line.
Citations are made by Carrel's own loaders and chunker, as the index stores them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage
from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.rag.chunker import Chunker
from app.rag.loaders import load
from app.ui import viewer_text
from app.ui.citations import CitationNotOpenableError
from app.ui.viewer import DocumentViewer, viewer_for
from tests.support.files import make_pdf
from tests.ui.conftest import open_window
from tests.ui.test_documents_page import UrlCatcher

# Bringing an open viewer to the front asks the window system, which offscreen cannot.
pytestmark = pytest.mark.qt_log_ignore(
    "does not support propagateSizeHints", "does not support raise"
)
SENTENCE = "The Toubkal summit reaches 4167 metres above the sea."
CTRL = Qt.KeyboardModifier.ControlModifier


def lines(topic: str, n: int = 40) -> list[str]:
    return [f"Line {i} of the notes on {topic}, written to fill the page." for i in range(n)]


def atlas(path: Path) -> Path:
    """Five pages; the third holds SENTENCE halfway down."""
    pages = [[f"Chapter {n}.", *lines(f"chapter {n}")] for n in range(1, 6)]
    pages[2] = ["Chapter 3.", *lines("climbing", 20), SENTENCE, *lines("the descent", 20)]
    path.write_bytes(make_pdf(pages))
    return path


def cite(path: Path, words: str) -> Citation:
    """The citation the index would give for the passage holding `words`."""
    for chunk in Chunker().chunks(load(path)):
        if words in " ".join(chunk.text.split()):
            return Citation(
                str(path),
                chunk.page,
                chunk.page_end,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
            )
    raise AssertionError(f"no passage holds {words!r}")


def yellow(image: QImage, box: QRect) -> float:
    """The share of the pixels in `box` that are highlighter yellow (or ink through it)."""
    points = [
        (x, y) for x in range(box.left(), box.right()) for y in range(box.top(), box.bottom())
    ]
    hits = 0
    for x, y in points:
        c = image.pixelColor(x, y)
        hits += c.blue() < 60 and c.red() > 1.1 * c.blue() + 40
    return hits / len(points)


@pytest.fixture
def viewer(qtbot: QtBot) -> DocumentViewer:
    v = DocumentViewer()
    qtbot.addWidget(v)
    return v


def test_pdf_opens_at_the_cited_page_with_its_passage_marked(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    pdf = atlas(tmp_path / "atlas.pdf")
    citation = cite(pdf, "Toubkal summit")
    assert citation.page == 3 and citation.end > citation.start

    with qtbot.waitSignal(viewer.document_shown), qtbot.waitSignal(viewer.page_shown) as shown:
        viewer.open_citation(citation)
    assert shown.args == [3, 5]
    assert viewer.isVisible() and viewer.page_box.text() == "Page 3 of 5"
    assert viewer.windowTitle().startswith("atlas.pdf")
    assert SENTENCE in viewer.passage
    marks = viewer.marks_on_page()
    assert marks, "the passage is marked on the page"
    # The mark is yellow on the page as drawn, a highlighter stroke over the sentence;
    # the line above it is not.
    image = viewer.page_label.pixmap().toImage()
    box = marks[0]
    assert yellow(image, box) > 0.5
    assert yellow(image, box.translated(0, -2 * box.height())) == 0
    top, seen = viewer.page_area.verticalScrollBar().value(), viewer.page_area.viewport()
    assert top <= box.top() < top + seen.height() - box.height()  # in view
    assert not viewer.page_area.horizontalScrollBar().isVisible()  # fits the width
    first_render = viewer.page_label.pixmap().cacheKey()

    with qtbot.waitSignal(viewer.page_shown) as turned:
        qtbot.mouseClick(viewer.next_button, Qt.MouseButton.LeftButton)
    assert turned.args == [4, 5] and viewer.page_box.text() == "Page 4 of 5"
    assert viewer.marks_on_page() == []
    for expected in (3, 2):
        with qtbot.waitSignal(viewer.page_shown) as turned:
            qtbot.mouseClick(viewer.prev_button, Qt.MouseButton.LeftButton)
        assert turned.args == [expected, 5]
    with qtbot.waitSignal(viewer.page_shown):
        viewer.page_box.setValue(1)
    assert not viewer.prev_button.isEnabled() and viewer.next_button.isEnabled()
    with qtbot.waitSignal(viewer.page_shown):
        viewer.page_box.setValue(5)
    assert not viewer.next_button.isEnabled()

    # Keys: PgUp / PgDn turn pages, Ctrl+= / Ctrl+- zoom, Ctrl+0 fits the width again.
    with qtbot.waitActive(viewer):
        viewer.activateWindow()  # asked for when it opened; the window system answers later
    with qtbot.waitSignal(viewer.page_shown) as turned:
        qtbot.keyClick(viewer, Qt.Key.Key_PageUp)
    assert turned.args == [4, 5]
    with qtbot.waitSignal(viewer.page_shown) as turned:
        qtbot.keyClick(viewer, Qt.Key.Key_PageUp)
    assert turned.args == [3, 5]
    assert viewer.page_label.pixmap().cacheKey() == first_render  # from the cache
    width = viewer.page_label.pixmap().width()
    with qtbot.waitSignal(viewer.page_shown):
        qtbot.keyClick(viewer, Qt.Key.Key_Equal, CTRL)
    assert viewer.page_label.pixmap().width() > width
    assert viewer.marks_on_page(), "the mark follows the zoom"
    with qtbot.waitSignal(viewer.page_shown):
        qtbot.keyClick(viewer, Qt.Key.Key_Minus, CTRL)
    with qtbot.waitSignal(viewer.page_shown):
        qtbot.keyClick(viewer, Qt.Key.Key_Minus, CTRL)
    assert viewer.page_label.pixmap().width() < width
    with qtbot.waitSignal(viewer.page_shown):
        qtbot.keyClick(viewer, Qt.Key.Key_0, CTRL)
    assert viewer.page_label.pixmap().width() == width
    with qtbot.waitSignal(viewer.page_shown) as turned:
        qtbot.keyClick(viewer, Qt.Key.Key_PageDown)
    assert turned.args == [4, 5]

    # Another document replaces this one; closing lets the PDF go.
    other = tmp_path / "short.pdf"
    other.write_bytes(make_pdf([["Only page.", *lines("one page")]]))
    with qtbot.waitSignal(viewer.page_shown) as shown_other:
        viewer.open_citation(Citation(str(other), page=1, text="Only page."))
    assert shown_other.args == [1, 1] and viewer.page_box.text() == "Page 1 of 1"
    assert viewer.passage == "Only page."
    viewer.close()
    assert viewer.page_count == 0 and viewer.page_label.pixmap().isNull()


def test_markdown_opens_with_the_passage_selected(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    notes = tmp_path / "harbour.md"
    before = "\n\n".join(f"Paragraph {i} about the tides and the moorings." for i in range(150))
    notes.write_text(
        f"# Harbour\n\n## Tides\n\n{before}\n\n## Staff\n\n"
        "The harbour master is Ingrid Solberg, on duty from six.\n\n"
        "## Fees\n\nA mooring costs 40 kroner a night.\n",
        encoding="utf-8",
    )
    with qtbot.waitSignal(viewer.document_shown) as shown:
        viewer.open_citation(cite(notes, "Ingrid Solberg"))
    assert shown.args == [str(notes)]
    view = viewer.text_view
    assert viewer.stack.currentWidget() is view and view.isReadOnly()
    assert view.textCursor().selectedText().startswith("The harbour master is Ingrid Solberg")
    assert "Ingrid Solberg" in viewer.passage
    assert view.verticalScrollBar().value() > 0
    assert view.viewport().rect().intersects(view.cursorRect())  # on screen
    assert "Staff" in view.toPlainText()  # headings are shown where they begin
    assert not viewer.page_box.isVisible() and not viewer.note.isVisible()  # no pages

    # A source stored before offsets were kept carries none: its words find it.
    old = {"source": str(notes), "page": None, "text": "A mooring costs 40 kroner a night."}
    with qtbot.waitSignal(viewer.document_shown):
        viewer.open_citation(Citation.from_record(old))
    assert view.textCursor().selectedText() == "A mooring costs 40 kroner a night."


def test_a_big_text_file_is_cut_and_says_so(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(viewer_text, "MAX_SHOWN_CHARS", 5_000)
    log = tmp_path / "big.txt"
    log.write_text("\n\n".join(f"Entry {i}: the pump ran for {i} minutes." for i in range(2_000)))
    with qtbot.waitSignal(viewer.document_shown):
        viewer.open_citation(cite(log, "Entry 3:"))
    shown = viewer.text_view.toPlainText()
    assert len(shown) <= 5_000 and "Entry 1999" not in shown
    assert viewer.note.isVisible() and "Showing the first" in viewer.note.text()
    selected = viewer.text_view.textCursor().selectedText()
    assert selected.startswith("Entry 0:") and "Entry 3:" in selected
    with qtbot.waitActive(viewer):
        viewer.activateWindow()
    bar = viewer.text_view.verticalScrollBar()
    before = bar.value()
    with qtbot.assertNotEmitted(viewer.page_shown):
        qtbot.keyClick(viewer.text_view, Qt.Key.Key_PageDown)
    assert bar.value() > before  # in text, PgDn scrolls


def test_a_passage_not_on_the_page_opens_the_page_unmarked(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    pdf = atlas(tmp_path / "atlas.pdf")
    with qtbot.assertNotEmitted(viewer.problem), qtbot.waitSignal(viewer.page_shown) as shown:
        viewer.open_citation(Citation(str(pdf), page=2, text="Words that are nowhere."))
    assert shown.args == [2, 5] and viewer.marks_on_page() == [] and viewer.passage == ""
    assert not viewer.note.isVisible()


def test_a_gone_file_is_refused_and_the_viewer_keeps_what_it_shows(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    pdf = atlas(tmp_path / "atlas.pdf")
    with qtbot.waitSignal(viewer.page_shown):
        viewer.open_citation(cite(pdf, "Toubkal summit"))
    gone = tmp_path / "moved.md"
    with pytest.raises(CitationNotOpenableError, match="no longer there"):
        viewer.open_citation(Citation(str(gone), page=None, text="anything"))
    with pytest.raises(CitationNotOpenableError, match="not a file on this machine"):
        viewer.open_citation(Citation("https://example.com/a.pdf", page=1))
    assert viewer.page_box.text() == "Page 3 of 5"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (make_pdf([["Secret page."]], encrypted=True), "encrypted with a password"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog", "not a valid PDF"),
    ],
    ids=["encrypted", "truncated"],
)
def test_an_unreadable_pdf_is_one_clear_line(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path, data: bytes, says: str
) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    with qtbot.waitSignal(viewer.problem) as problem:
        viewer.open_citation(Citation(str(pdf), page=2, text="Secret page."))
    message = problem.args[0]
    assert message.startswith("'report.pdf' cannot be read") and says in message
    assert "\n" not in message and "Traceback" not in message
    assert viewer.isVisible() and viewer.note.isVisible() and viewer.note.text() == message
    assert not viewer.stack.isVisible() and viewer.page_count == 0
    assert viewer.system_button.isEnabled()  # the desktop's viewer may ask for the password


def test_open_in_system_viewer_hands_over_the_page_on_screen(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    pdf = atlas(tmp_path / "atlas.pdf")
    with qtbot.waitSignal(viewer.page_shown):
        viewer.open_citation(cite(pdf, "Toubkal summit"))
    with qtbot.waitSignal(viewer.page_shown):
        viewer.next_page()
    catcher = UrlCatcher()
    # PySide6 wants the slot name as str at run time; its stub says bytes.
    QDesktopServices.setUrlHandler("file", catcher, "open")  # type: ignore[arg-type]
    try:
        qtbot.mouseClick(viewer.system_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [(u.toLocalFile(), u.fragment()) for u in catcher.urls] == [(str(pdf), "page=4")]


def test_a_source_under_a_reply_opens_in_the_windows_viewer(
    qtbot: QtBot, carrel_home: Path, tmp_path: Path
) -> None:
    """The chat's source link, with no model needed: the reply is one the store gave back."""
    pdf = atlas(tmp_path / "atlas.pdf")
    stored = cite(pdf, "Toubkal summit").numbered(1).to_record()  # what a stored reply keeps
    source = Citation.from_record(stored)
    gone = Citation(str(tmp_path / "moved.pdf"), 2, text="anything", n=2)
    window = open_window(qtbot, load=False)
    try:
        window.chat.add_reply("Toubkal is 4167 m high [1].", citations=[source, gone])
        viewer = viewer_for(window)
        assert viewer is viewer_for(window.documents_page)  # one viewer per window
        with qtbot.waitSignal(viewer.page_shown) as shown:
            window.chat.anchorClicked.emit(QUrl("cite:0"))
        assert shown.args == [3, 5] and viewer.isVisible()
        assert SENTENCE in viewer.passage and viewer.marks_on_page()

        with qtbot.waitSignal(window.error_bar.shown) as error:
            window.chat.anchorClicked.emit(QUrl("cite:1"))
        assert "moved.pdf" in error.args[0] and "no longer there" in error.args[0]
        assert viewer.page_box.text() == "Page 3 of 5"  # still showing what it showed
    finally:
        window.close()


def test_offsets_pick_the_cited_one_of_two_same_passages(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    notes = tmp_path / "rules.md"
    rule = "Boats must be moored bow first and tied at two points at least."
    notes.write_text(f"# Rules\n\n## Summer\n\n{rule}\n\n## Winter\n\n{rule}\n", encoding="utf-8")
    chunks = [c for c in Chunker().chunks(load(notes)) if rule in c.text]
    assert len(chunks) == 2
    winter = chunks[1]
    citation = Citation(
        str(notes), heading="Winter", text=winter.text, start=winter.start, end=winter.end
    )
    with qtbot.waitSignal(viewer.document_shown):
        viewer.open_citation(citation)
    cursor = viewer.text_view.textCursor()
    assert cursor.selectedText() == rule
    shown = viewer.text_view.toPlainText()
    assert cursor.selectionStart() == shown.rindex(rule) > shown.index(rule)
    # Without offsets, the first one is the best guess.
    with qtbot.waitSignal(viewer.document_shown):
        viewer.open_citation(Citation(str(notes), text=rule))
    assert viewer.text_view.textCursor().selectionStart() == shown.index(rule)


def test_a_pdf_passage_is_marked_where_its_offset_says(
    qtbot: QtBot, viewer: DocumentViewer, tmp_path: Path
) -> None:
    """A page of one line repeated: only the offset tells one passage from another."""
    pdf = tmp_path / "tides.pdf"
    pdf.write_bytes(make_pdf([["The tide rises twice a day at the harbour mouth."] * 45]))
    second = list(Chunker().chunks(load(pdf)))[1]
    assert second.page == 1 and second.start > 0
    citation = Citation(str(pdf), 1, 1, text=second.text, start=second.start, end=second.end)
    with qtbot.waitSignal(viewer.page_shown):
        viewer.open_citation(citation)
    by_offset = viewer.marks_on_page()[0].top()
    with qtbot.waitSignal(viewer.page_shown):
        viewer.open_citation(Citation(str(pdf), page=1, text=second.text))
    by_words = viewer.marks_on_page()[0].top()  # the first place its words fit
    assert by_offset > by_words
