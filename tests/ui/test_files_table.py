"""The Documents page's file list at an analyst's scale: 10,000 files shown, moved through
their states and settled in place by path, the selection kept across a refresh; and, over
a real Workbench, an ingest of many small files through the page reads the records of each
settled file once, never the whole collection per file (which made the GUI thread's work
grow with the square of the files: 33 s frozen at 1,000 files); and the ingest's worker
sends files' states together, every state of every file in order, in fewer signals."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt
from pytestqt.qtbot import QtBot

from app.rag.embedder import SentenceEmbedder
from app.rag.outcome import FileOutcome
from app.rag.records import FileRecord
from app.ui.pages.documents import DocumentsPage
from app.ui.pages.documents_views import SOURCE_ROLE
from app.ui.pages.files_table import FilesModel, FilesTable
from app.workbench import Workbench

TIMEOUT_MS = 120_000
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def record(source: str, status: str = "indexed", reason: str = "") -> FileRecord:
    return FileRecord("c", source, "h", 10, 1, status, reason, 2, 3, 0.0)


@pytest.fixture
def table(qtbot: QtBot) -> FilesTable:
    t = FilesTable()
    qtbot.addWidget(t)
    t.show()
    return t


def test_ten_thousand_files_are_shown_moved_and_settled_in_place(table: FilesTable) -> None:
    sources = [f"/docs/f{n:05d}.txt" for n in range(10_000)]
    table.show_files([record(s) for s in sources[::2]], {})
    assert len(table.rows()) == 5_000 and table.files.rowCount() == 5_000

    table.set_state(tuple(sources), "queued")  # the ingest's first event: every file
    rows = table.rows()
    assert len(rows) == 10_000 and {state for state, _ in rows.values()} == {"queued"}
    assert table.files.source(0) == sources[0]  # moved in place, new files at the end
    assert table.files.source(5_000) == sources[1]

    table.set_state((sources[1],), "embedding")
    done = [record(sources[1]), record(sources[3], "failed", "Not a PDF.")]
    table.settle([sources[1], sources[3], sources[5]], done, {}, {sources[5]: "cancelled"})
    rows = table.rows()
    assert rows[sources[1]] == ("indexed", "")
    assert rows[sources[3]] == ("failed", "Not a PDF.")
    assert rows[sources[5]][0] == "cancelled"  # no record: the state the ingest told
    assert rows[sources[7]][0] == "queued"
    index = table.files.index(table.files.row_of(sources[3]) or 0, 4)
    assert table.files.data(index) == "Not a PDF."
    assert table.files.data(table.files.index(0, 0)) == "f00000.txt"


def test_the_view_calls_into_python_per_cell_shown_not_per_file(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every call from Qt into the model's Python costs the GUI thread the GIL, which an
    ingest's threads hold: 10,000 new rows and their first paint must not ask the model
    about each row (a tree view did, twice), a painted cell is made in one call (`index`,
    where Qt's own asks `rowCount` and `columnCount` each time) and its roles come in one
    (`multiData`) that answers as `data` would."""
    calls = {"rowCount": 0, "columnCount": 0, "index": 0, "data": 0, "multiData": 0}
    for name in calls:
        real = getattr(FilesModel, name)

        def counted(self: FilesModel, *args: Any, _real: Any = real, _name: str = name) -> Any:
            calls[_name] += 1
            return _real(self, *args)

        monkeypatch.setattr(FilesModel, name, counted)
    table = FilesTable()
    qtbot.addWidget(table)
    table.resize(600, 400)
    table.show()
    qtbot.waitExposed(table)
    table.set_state(tuple(f"/docs/f{n:05d}.txt" for n in range(10_000)), "queued")
    table.grab()  # paints it
    shown = sum(calls.values())
    assert calls["multiData"] > 0 and calls["data"] == 0, calls
    assert shown < 1_000, calls  # the cells in view and a few counts, not 10,000 rows
    assert calls["rowCount"] + calls["columnCount"] < 20, calls  # not per cell

    table.settle(["/docs/f00001.txt"], [record("/docs/f00001.txt", "failed", "Bad.")], {}, {})
    model = table.files
    assert not model.index(10_000, 0).isValid() and not model.index(0, 5).isValid()
    assert not model.index(0, 0, model.index(0, 0)).isValid()  # no children
    for column in range(model.columnCount()):
        index = model.index(1, column)
        roles = [int(r) for r in Qt.ItemDataRole] + [SOURCE_ROLE]
        for role in roles:
            slot = QModelRoleData(role)
            model.multiData(index, QModelRoleDataSpan(slot))
            assert slot.data() == model.data(index, role), (column, role)


def test_a_row_is_one_line_of_the_lists_font(table: FilesTable) -> None:
    table.show_files([record("/docs/a.txt"), record("/docs/b.txt")], {})
    before = table.rowHeight(0)
    assert table.fontMetrics().height() <= before < 2 * table.fontMetrics().height()
    font = table.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    table.setFont(font)  # a larger font: taller rows, each still one line
    assert table.rowHeight(1) > before
    assert table.fontMetrics().height() <= table.rowHeight(1) < 2 * table.fontMetrics().height()


def test_the_selection_is_kept_across_a_refresh(table: FilesTable) -> None:
    sources = [f"/docs/f{n}.txt" for n in range(5)]
    table.show_files([record(s) for s in sources], {})
    table.select_source(sources[3])
    assert table.selected_sources() == [sources[3]]
    cancelled = {"/docs/a.txt": FileOutcome("/docs/a.txt", "cancelled")}
    table.show_files([record(s) for s in sources], cancelled)  # a row comes before it
    assert table.selected_sources() == [sources[3]]
    assert table.rows()["/docs/a.txt"][0] == "cancelled"
    table.show_files([record(s) for s in sources[:3]], {})  # gone: nothing selected
    assert table.selected_sources() == []


def test_records_are_read_for_the_files_asked_about(carrel_home: Path) -> None:
    wb = Workbench.open()
    try:
        records = wb.documents.records
        records.create_collection("many", "stand-in", 4, "late")
        for n in range(1_200):  # more than one statement's worth of values
            records.commit(
                FileRecord("many", f"/docs/f{n:04d}.txt", "h", 1, 1, "indexed", "", 1, 1, 0.0)
            )
        wanted = {f"/docs/f{n:04d}.txt" for n in range(0, 1_200, 2)} | {"/docs/absent.txt"}
        found = wb.documents.files("many", wanted)
        assert [r.source for r in found] == sorted(wanted - {"/docs/absent.txt"})
        assert len(wb.documents.files("many")) == 1_200
    finally:
        wb.close()


def test_an_ingest_of_many_files_reads_each_settled_record_once(
    qtbot: QtBot, carrel_home: Path, tmp_path: Path
) -> None:
    embedder = SentenceEmbedder()
    wb = Workbench.open()
    wb.documents.embedder = embedder
    page = DocumentsPage(wb)
    qtbot.addWidget(page)
    page.show()
    folder = tmp_path / "notes"
    folder.mkdir()
    for n in range(300):
        (folder / f"n{n:03d}.txt").write_text(f"Note {n} on the cedar road.\n", "utf-8")
    reads: list[int | None] = []  # per read during the ingest: files asked for, None = all
    real_files = wb.documents.files

    def files(collection: str | None = None, sources: Iterable[str] | None = None) -> list:
        if page.ingesting:
            sources = None if sources is None else list(sources)
            reads.append(None if sources is None else len(sources))
        return real_files(collection, sources)

    try:
        with qtbot.waitSignal(page.collections_changed, timeout=TIMEOUT_MS):
            page.create_collection("many")
        wb.documents.files = files  # type: ignore[method-assign]
        with qtbot.waitSignal(page.ingest_finished, timeout=TIMEOUT_MS) as finished:
            page.add_paths([folder])
        assert finished.args[0].count("indexed") == 300
        assert reads and None not in reads  # never the whole collection while the ingest runs
        assert sum(n for n in reads if n) <= 300  # each settled file's record read once
        rows = page.files.rows()
        assert len(rows) == 300 and {s for s, _ in rows.values()} == {"indexed"}
        item = page.collection_list.currentItem()
        assert item is not None and item.text() == "many  (300 files)"
    finally:
        page.shutdown()
        wb.close()


def test_the_worker_sends_states_together_in_order_and_all_before_the_end(
    qtbot: QtBot,
) -> None:
    """What `IngestWorker` tells the GUI of a folder's files moving: every state of every
    file, in the order told, the files of one state together; fewer signals than events."""
    from app.rag.outcome import IngestProgress
    from app.ui.pages.ingest_worker import IngestWorker

    worker = IngestWorker(None, [], "c")  # type: ignore[arg-type]  # only its _tell is used
    sent: list[IngestProgress] = []
    worker.progress.connect(sent.append)
    files = [f"/d/f{n:03d}.txt" for n in range(300)]
    told = 1
    worker._tell(IngestProgress(event="files", sources=tuple(files), file_state="queued"))
    for n in range(0, 300, 3):
        group = files[n : n + 3]
        for f in group:
            worker._tell(IngestProgress(event="files", sources=(f,), file_state="reading"))
        worker._tell(IngestProgress(event="files", sources=tuple(group), file_state="embedding"))
        for f in group:
            worker._tell(IngestProgress(event="files", sources=(f,), file_state="indexed"))
            worker._tell(IngestProgress(event="file", files_done=files.index(f) + 1))
        told += 3 + 1 + 3 + 3
    worker._tell(IngestProgress(event="done", files_done=300))
    told += 1
    assert sent[-1].event == "done" and len(sent) < told
    order = ["queued", "reading", "embedding", "indexed"]
    states: dict[str, list[str]] = {}
    for p in sent:
        if p.event == "files":
            for f in p.sources:
                states.setdefault(f, []).append(p.file_state)
    assert all(states[f] == order for f in files)


def test_held_states_merge_only_with_the_same_state(qtbot: QtBot) -> None:
    from app.rag.outcome import IngestProgress
    from app.ui.pages.ingest_worker import IngestWorker

    worker = IngestWorker(None, [], "c")  # type: ignore[arg-type]
    sent: list[IngestProgress] = []
    worker.progress.connect(sent.append)
    for sources, state in ((("a",), "reading"), (("b",), "reading"), (("a", "b"), "embedding")):
        worker._hold(IngestProgress(event="files", sources=sources, file_state=state))
    worker._hold(IngestProgress(event="files", sources=("c",), file_state="reading"))
    worker._send_held(0.0)
    assert [(p.file_state, p.sources) for p in sent] == [
        ("reading", ("a", "b")),
        ("embedding", ("a", "b")),
        ("reading", ("c",)),
    ]
