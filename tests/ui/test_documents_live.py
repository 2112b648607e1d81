"""The Documents page while it works, over a real Workbench (MiniLM embedder, Qdrant
Edge shards): a collection named with spaces and accents is created, indexed, searched and
found again after a restart; a bad name keeps what was typed; the file list shows each
file queued, reading, embedding and done or failed while the ingest runs, with the
collection's file count following; search hits stay when an ingest ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.rag.embedder import SentenceEmbedder
from app.rag.naming import collection_key
from app.rag.outcome import IngestProgress
from app.ui.pages.documents import DocumentsPage
from app.workbench import Workbench
from tests.support.files import make_pdf

TIMEOUT_MS = 60_000
NAME = "Field notes — été 2026"
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


def open_page(qtbot: QtBot, embedder: SentenceEmbedder) -> tuple[Workbench, DocumentsPage]:
    wb = Workbench.open()
    wb.documents.embedder = embedder
    page = DocumentsPage(wb)
    qtbot.addWidget(page)
    page.show()
    return wb, page


@pytest.fixture
def opened(
    qtbot: QtBot, carrel_home: Path, embedder: SentenceEmbedder
) -> Iterator[tuple[Workbench, DocumentsPage]]:
    wb, page = open_page(qtbot, embedder)
    yield wb, page
    page.shutdown()
    wb.close()


def corpus(root: Path) -> Path:
    root.mkdir()
    lines = [f"Line {i} about the cedar forests of the Atlas, written to fill." for i in range(40)]
    (root / "atlas.pdf").write_bytes(
        make_pdf([["Cedars grow on limestone.", *lines], ["Toubkal is 4167 metres.", *lines]])
    )
    (root / "notes.md").write_text("# Tea\n\nGreen tea is steeped at 80 degrees.\n", "utf-8")
    (root / "rivers.txt").write_text("The Draa is the longest river of Morocco.\n", "utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    return root


def test_a_spaced_name_is_created_indexed_searched_and_reopened(
    qtbot: QtBot, carrel_home: Path, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    folder = corpus(tmp_path / "docs")
    wb, page = open_page(qtbot, embedder)
    try:
        with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as refused:
            page.create_collection("x" * 130)
        assert "longer than" in refused.args[0]
        assert page.typed_name == "x" * 130  # offered again by New…, not lost
        with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
            page.create_collection(NAME)
        assert page.current_collection() == NAME and page.typed_name == ""
        with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
            page.add_paths([folder])
        with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as found:
            page.search("How hot should green tea be?")
        assert Path(found.args[0][0].source).name == "notes.md"
        assert (wb.documents.index_root / collection_key(NAME)).is_dir()
    finally:
        page.shutdown()
        page.close()
        wb.close()

    wb, page = open_page(qtbot, embedder)  # a restart: the name and its files are there
    try:
        assert page.collection_names() == [NAME]
        item = page.collection_list.currentItem()
        assert item is not None and item.text() == f"{NAME}  (4 files)"
        with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as found:
            page.search("the longest river")
        assert Path(found.args[0][0].source).name == "rivers.txt"
    finally:
        page.shutdown()
        page.close()
        wb.close()


def test_the_file_list_is_live_during_an_ingest(
    qtbot: QtBot, opened: tuple[Workbench, DocumentsPage], tmp_path: Path
) -> None:
    wb, page = opened
    folder = corpus(tmp_path / "docs")
    wb.documents.batch = 4  # several steps, so the states are seen one by one
    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
        page.create_collection("live")
    seen: dict[str, list[str]] = {}
    counts: list[str] = []

    def look(p: IngestProgress) -> None:
        """What the list shows as each event arrives."""
        for source, (state, _reason) in page.files.rows().items():
            states = seen.setdefault(Path(source).name, [])
            if not states or states[-1] != state:
                states.append(state)
        item = page.collection_list.currentItem()
        if p.event in ("file", "done") and item is not None:
            counts.append(item.text())

    page.ingest_progress.connect(look)
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        page.add_paths([folder])
    look(IngestProgress(event="done"))  # and as the ingest ends (settled rows may lag 250 ms)
    for name in ("atlas.pdf", "notes.md", "rivers.txt"):
        assert seen[name][0] == "queued" and seen[name][-1] == "indexed", seen[name]
        assert "embedding…" in seen[name], seen[name]
    assert seen["broken.pdf"][0] == "queued" and seen["broken.pdf"][-1] == "failed"
    assert any("reading…" in states for states in seen.values())
    # The count follows the files as they settle, not "(0 files)" until the end
    # (small files are embedded together, so two may settle at once; after the first,
    # what settled reaches the list at most every 250 ms, so the count may lag a file).
    assert counts[0] in ("live  (1 file)", "live  (2 files)", "live  (3 files)")
    assert counts[-1] == "live  (4 files)"
    assert page.files.rows().keys() == {str((folder / n).resolve()) for n in seen}


def test_search_hits_are_kept_when_an_ingest_ends(
    qtbot: QtBot, opened: tuple[Workbench, DocumentsPage], tmp_path: Path
) -> None:
    _wb, page = opened
    folder = corpus(tmp_path / "docs")
    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
        page.create_collection("kept")
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        page.add_paths([folder / "notes.md", folder / "rivers.txt"])
    with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as found:
        page.search("green tea")
    shown = page.hits.citations()
    assert shown == found.args[0] and shown
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        page.add_paths([folder / "atlas.pdf"])
    assert page.hits.citations() == shown  # not wiped
    assert page.search_box.text() == "green tea"
