"""The viewer fits the screen it opens on, and a passage that runs over a page break is
marked on both pages (a real PDF, cited as Carrel's own loader and chunker cite it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.rag.chunker import Chunker
from app.rag.loaders import load
from app.ui.viewer import DocumentViewer
from app.ui.viewer_size import PREFERRED, viewer_size
from tests.support.files import make_pdf

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def test_the_viewer_is_never_taller_than_the_screen() -> None:
    assert viewer_size(QSize(1920, 1050)) == PREFERRED  # room enough: a page's shape
    small = viewer_size(QSize(1400, 876))  # a 1400x900 screen less a 24-pixel panel
    assert small.height() <= 876 - 40 and small.width() == PREFERRED.width()
    tiny = viewer_size(QSize(800, 560))
    assert tiny.width() <= 800 and tiny.height() <= 560


def test_the_real_viewer_fits_its_screen(qtbot: QtBot) -> None:
    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    area = viewer.screen().availableGeometry()
    assert viewer.height() <= area.height() and viewer.width() <= area.width()
    assert area.contains(viewer.geometry().topLeft())


def spanning(path: Path) -> Citation:
    """A passage that starts on page 1 and ends on page 2, as the index cites it."""
    pages = [
        [f"Page {n} line {i} about the caravan road south of the Atlas." for i in range(12)]
        for n in (1, 2, 3)
    ]
    path.write_bytes(make_pdf(pages))
    for chunk in Chunker().chunks(load(path)):
        if chunk.page == 1 and chunk.page_end == 2:
            return Citation(str(path), 1, 2, text=chunk.text, start=chunk.start, end=chunk.end)
    raise AssertionError("the chunker made no passage across the page break")


def test_a_passage_across_a_page_break_is_marked_on_both_pages(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cited = spanning(tmp_path / "road.pdf")
    viewer = DocumentViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.page_shown, timeout=10_000):
        viewer.open_citation(cited)
    assert viewer.page_number == 1
    first = viewer.marks_on_page()
    assert first  # the start of the passage, at the foot of page 1
    assert "Page 1 line 11" in viewer.passage and "Page 2 line 11" in viewer.passage
    with qtbot.waitSignal(viewer.page_shown, timeout=10_000):
        viewer.next_page()
    second = viewer.marks_on_page()
    assert len(second) >= 12  # every line of page 2 belongs to the passage
    assert min(box.top() for box in second) < min(box.top() for box in first)  # from the top
    with qtbot.waitSignal(viewer.page_shown, timeout=10_000):
        viewer.next_page()
    assert viewer.marks_on_page() == []  # page 3 is not part of it
