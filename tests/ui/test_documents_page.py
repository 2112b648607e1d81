"""The Documents page over a real Workbench: real embedder, real Qdrant Edge shards, files
made here. Each step waits on the page's signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QObject, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.citation import Citation
from app.rag.embedder import SentenceEmbedder
from app.rag.outcome import IngestProgress, IngestReport
from app.ui.citations import CitationNotOpenableError, citation_url
from app.ui.pages.collection_picker import CollectionPicker
from app.ui.pages.documents import DocumentsPage
from app.ui.viewer import viewer_for
from app.workbench import Workbench
from tests.support.files import make_pdf

TIMEOUT_MS = 60_000
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    e = SentenceEmbedder()
    e.load()
    return e


@pytest.fixture
def wb(carrel_home: Path, embedder: SentenceEmbedder) -> Iterator[Workbench]:
    workbench = Workbench.open()
    workbench.documents.embedder = embedder  # one loaded model for the whole module
    yield workbench
    workbench.close()


@pytest.fixture
def page(qtbot: QtBot, wb: Workbench) -> Iterator[DocumentsPage]:
    p = DocumentsPage(wb)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def create(qtbot: QtBot, page: DocumentsPage, name: str) -> None:
    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
        page.create_collection(name)
    assert page.current_collection() == name


def drop_on(page: DocumentsPage, paths: list[Path]) -> None:
    """Drag `paths` from a file manager and drop them on the page."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    where = QPointF(page.width() / 2, page.height() / 2)
    action = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:  # Qt 6.12 takes a QPointF (the QPoint form is deprecated); 6.11 only a QPoint
        enter = QDragEnterEvent(where, action, mime, buttons, keys)
    except TypeError:
        enter = QDragEnterEvent(where.toPoint(), action, mime, buttons, keys)
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(page, QDropEvent(where, action, mime, buttons, keys))


def filler(topic: str) -> list[str]:
    """A page's worth of lines, so each page is a passage of its own."""
    return [f"Line {i} of the notes on {topic}, written to fill the page." for i in range(45)]


def small_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "atlas.pdf").write_bytes(
        make_pdf(
            [
                ["Chapter one: the Atlas mountains.", *filler("cedar forests")],
                ["Chapter two: rivers.", *filler("the Draa river")],
                ["Chapter three: Toubkal summit reaches 4167 metres.", *filler("climbing")],
            ]
        )
    )
    (root / "scan.pdf").write_bytes(make_pdf([None, None]))  # images only: needs OCR
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")  # truncated
    (root / "notes.md").write_text(
        "# Sourdough\n\n## Starter\n\nFeed the starter rye flour daily.\n", encoding="utf-8"
    )
    return root


def busy(page: DocumentsPage) -> bool:
    return page.ingesting


class UrlCatcher(QObject):
    """Stands in for the desktop's file opener: records the URLs it is asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_add_by_drop_states_search_open_and_remove(
    qtbot: QtBot, page: DocumentsPage, tmp_path: Path
) -> None:
    folder = small_corpus(tmp_path / "corpus")
    create(qtbot, page, "atlas")

    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS) as done:
        drop_on(page, [folder])
    report: IngestReport = done.args[0]
    assert report is not None and not report.cancelled
    rows = page.files.rows()
    atlas, scan, broken, notes = (
        str((folder / n).resolve()) for n in ("atlas.pdf", "scan.pdf", "broken.pdf", "notes.md")
    )
    assert rows[atlas][0] == "indexed"
    assert rows[notes][0] == "indexed"
    assert rows[scan][0] == "needs OCR"
    assert rows[broken][0] == "failed"
    assert "broken.pdf" in rows[broken][1]  # the reason says which file and why
    current = page.collection_list.currentItem()
    assert current is not None and current.text() == "atlas  (4 files)"
    assert "indexed" in page.ingest_bar.label.text()

    # Adding the same folder again skips what has not changed; what failed is tried
    # again, and stays failed until it indexes.
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS) as again:
        page.add_paths([folder])
    assert again.args[0].count("unchanged") == 3 and again.args[0].count("failed") == 1
    assert page.files.rows()[atlas][0] == "skipped (unchanged)"
    assert page.files.rows()[broken][0] == "failed"

    with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as searched:
        page.search("How high is the Toubkal summit?")
    hits: list[Citation] = searched.args[0]
    top = hits[0]
    assert top.source == atlas and "Toubkal" in top.text
    assert top.page is not None and top.page <= 3 <= (top.page_end or top.page)
    first = page.hits.topLevelItem(0)
    assert first is not None and first.text(0) == "atlas.pdf"
    assert first.text(1) in ("3", f"{top.page}–3")
    assert first.text(3).startswith(" ".join(top.text.split())[:40])

    # Opening a hit shows it in the built-in viewer, at its page, the passage marked.
    viewer = viewer_for(page)
    with qtbot.waitSignal(page.citation_opened, timeout=TIMEOUT_MS) as opened:
        page.hits.open_row(0)
    url: QUrl = opened.args[0]
    assert url.isLocalFile() and url.scheme() == "file"
    assert url.toLocalFile() == atlas and url.fragment() == f"page={top.page}"
    assert viewer.isVisible() and viewer.source == atlas
    assert viewer.page_box.text() == f"Page {top.page} of 3"
    assert viewer.marks_on_page() and viewer.passage

    page.files.select_source(notes)
    with qtbot.waitSignal(page.files_removed, timeout=TIMEOUT_MS) as removed:
        page.remove_selected()
    assert removed.args[0] == [notes]
    assert notes not in page.files.rows()
    assert atlas in page.files.rows()
    with qtbot.waitSignal(page.searched, timeout=TIMEOUT_MS) as searched:
        page.search("rye flour starter")
    assert all(h.source != notes for h in searched.args[0])


def test_cancel_leaves_no_file_half_indexed(
    qtbot: QtBot, page: DocumentsPage, wb: Workbench, tmp_path: Path
) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    paragraph = " ".join(f"Sentence {i} about lighthouse keeper number {i}." for i in range(60))
    for n in range(8):
        text = "\n\n".join(f"## Part {p}\n\n{paragraph}" for p in range(12))
        (folder / f"log{n}.md").write_text(f"# Log {n}\n\n{text}\n", encoding="utf-8")
    wb.documents.batch = 2  # many small steps, so cancel lands between batches
    create(qtbot, page, "long")

    def embedding(p: IngestProgress) -> bool:
        return p.event == "batch" and p.chunks > 0

    with qtbot.waitSignal(page.ingest_progress, timeout=TIMEOUT_MS, check_params_cb=embedding):
        worker = page.add_paths([folder])
    assert worker is not None and busy(page)
    assert not page.add_files_button.isEnabled()  # one ingest at a time
    assert "chunks" in page.ingest_bar.label.text()
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS) as done:
        page.ingest_bar.cancel_button.click()
    report: IngestReport = done.args[0]
    assert report.cancelled
    assert report.count("indexed") < 8
    assert not busy(page) and page.add_files_button.isEnabled()
    assert page.ingest_bar.label.text().startswith("Cancelled")

    # Every recorded file is wholly in the index, and nothing else is.
    records = {f.source: f for f in wb.documents.files("long")}
    assert all(f.status == "indexed" for f in records.values())
    in_index = wb.documents.index("long").sources()
    assert {source: n for (source, _hash), n in in_index.items()} == {
        s: f.chunks for s, f in records.items()
    }
    rows = page.files.rows()
    assert set(rows) >= set(records)
    assert any(state == "cancelled" for state, _ in rows.values())


def test_picker_follows_collections_and_emits_changed(
    qtbot: QtBot, page: DocumentsPage, wb: Workbench
) -> None:
    picker = CollectionPicker(wb.documents)
    qtbot.addWidget(picker)
    page.collections_changed.connect(picker.refresh)
    assert picker.names() == [] and not picker.list.isVisible()
    create(qtbot, page, "alpha")
    create(qtbot, page, "beta")
    assert picker.names() == ["alpha", "beta"]

    with qtbot.waitSignal(picker.changed, timeout=TIMEOUT_MS) as changed:
        picker.list.item(1).setCheckState(Qt.CheckState.Checked)
    assert changed.args == [["beta"]]
    with qtbot.assertNotEmitted(picker.changed):
        picker.set_selected(["alpha"])  # loading a conversation is not a change
    assert picker.selected() == ["alpha"]
    with qtbot.waitSignal(picker.changed, timeout=TIMEOUT_MS) as pruned:
        picker.set_selected(["alpha", "gone"])
    assert pruned.args == [["alpha"]]

    with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS) as listed:
        page.drop_collection("alpha")
    assert listed.args == [["beta"]]
    assert picker.names() == ["beta"]
    assert not (wb.paths.data_dir / "index" / "alpha").exists()


def test_errors_go_to_the_error_signal(qtbot: QtBot, page: DocumentsPage, tmp_path: Path) -> None:
    with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as no_collection:
        page.add_paths([tmp_path])
    assert "Create a collection first" in no_collection.args[0]
    with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as bad_name:
        page.create_collection("a tab\there")  # any name but one with control characters
    assert "cannot be a collection name" in bad_name.args[0]

    gone = Citation(str(tmp_path / "moved.pdf"), 2, 2, text="text")
    with qtbot.waitSignal(page.error, timeout=TIMEOUT_MS) as moved:
        page.open_hit(gone)
    assert "no longer there" in moved.args[0]
    for source in ("https://example.com/a.pdf", "relative/a.pdf", ""):
        with pytest.raises(CitationNotOpenableError):
            citation_url(source, 1)


def test_a_late_signal_of_the_last_ingest_does_not_end_the_next(
    qtbot: QtBot, page: DocumentsPage, tmp_path: Path
) -> None:
    """A worker's `finished` may still be queued when the next ingest starts (adding again
    at once, as a script or a quick drop does); it used to end the new ingest as failed."""
    folder = small_corpus(tmp_path / "corpus")
    create(qtbot, page, "atlas")
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS):
        first = page.add_paths([folder])
    second = page.add_paths([folder])
    assert first is not None and second is not None and page.ingesting
    with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS) as again:
        first.finished.emit()  # the first worker's last signal, arriving late
        assert page.ingesting
    report: IngestReport = again.args[0]
    assert report is not None and report.count("unchanged") == 3
