"""`DocumentsPage`: collections, their files and states, adding by dialog or drag-and-drop
with progress and cancel, removing, and a search whose hits open at their page in the
built-in viewer.

Every call that may touch an index or the embedder (create, ingest, remove, drop, search)
runs in a worker; the GUI thread only reads the small records table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.citation import Citation
from app.errors import CarrelError
from app.rag.outcome import FileOutcome
from app.ui.pages import documents_views as views
from app.ui.pages.documents_ingest import IngestPart
from app.ui.pages.documents_models import RetrievalChoice
from app.ui.pages.files_table import FilesTable
from app.ui.pages.ingest_worker import IngestWorker
from app.ui.viewer import viewer_for
from app.ui.widgets import ask
from app.ui.workers import TaskWorker, WorkerSet
from app.workbench import Workbench

SEARCH_K = 10


class DocumentsPage(IngestPart, QWidget):
    """The Documents page over `workbench.documents`.

    Signals: `error(str)` with a message for the window's error bar;
    `collections_changed(list)` with every collection name after one was created or
    removed; `ingest_started(object)` with the `IngestWorker` before it runs;
    `ingest_progress(object)` with each `IngestProgress` shown (files, passages, rate, ETA);
    `ingest_finished(object)` with the `IngestReport` (None if the ingest failed);
    `files_removed(list)` with the paths taken out; `searched(list)` with the `Citation`s
    shown; `citation_opened(object)` with the `file:` `QUrl` of a hit shown in the viewer.
    """

    error = Signal(str)
    collections_changed = Signal(list)
    ingest_started = Signal(object)
    ingest_progress = Signal(object)
    ingest_finished = Signal(object)
    files_removed = Signal(list)
    searched = Signal(list)
    citation_opened = Signal(object)

    def __init__(
        self, workbench: Workbench, parent: QWidget | None = None, log_file: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.wb = workbench
        self.documents = workbench.documents
        self.log_file = log_file or workbench.paths.logs_dir / "carrel.log"
        self._workers = WorkerSet(self)
        self._ingest: IngestWorker | None = None
        self._outcomes: dict[str, dict[str, FileOutcome]] = {}
        # A running ingest's files by state ({source: state}), for its collection.
        self._live: dict[str, str] = {}
        self._init_settling()
        # The name last typed in "New…", offered again until a collection gets it.
        self._typed_name = ""
        self._select_after_refresh: str | None = None
        self.setAcceptDrops(True)
        self._build()
        self.refresh_collections()

    # layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.collection_list = views.CollectionList(self)
        self.new_button = QPushButton("New…", self)
        self.drop_button = QPushButton("Remove…", self)
        self.choice = RetrievalChoice(self.documents, self._start, self)
        left = views.stack(
            self,
            QLabel("Collections", self),
            self.collection_list,
            [self.new_button, self.drop_button],
            self.choice,
            grow=1,
        )
        self.add_files_button = QPushButton("Add files…", self)
        self.add_folder_button = QPushButton("Add folder…", self)
        self.remove_file_button = QPushButton("Remove file", self)
        self.files = FilesTable(self)
        self.ingest_bar = views.IngestBar(self)
        hint = QLabel("Drop files or folders here to add them to the collection.", self)
        hint.setEnabled(False)
        tools: list[QWidget | None] = [
            self.add_files_button,
            self.add_folder_button,
            self.remove_file_button,
            None,
        ]
        files_box = views.stack(self, tools, self.files, hint, self.ingest_bar, grow=1)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Search this collection…")
        self.search_box.setClearButtonEnabled(True)
        self.search_button = QPushButton("Search", self)
        self.hits = views.HitsList(self)
        search_box = views.stack(self, [self.search_box, self.search_button], self.hits, grow=1)

        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(files_box)
        right.addWidget(search_box)
        right.setChildrenCollapsible(False)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 760])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.collection_list.currentItemChanged.connect(lambda *_: self._on_collection())
        self.new_button.clicked.connect(self.ask_new_collection)
        self.drop_button.clicked.connect(self.ask_drop_collection)
        self.add_files_button.clicked.connect(self.ask_add_files)
        self.add_folder_button.clicked.connect(self.ask_add_folder)
        self.remove_file_button.clicked.connect(self.remove_selected)
        self.ingest_bar.cancel_requested.connect(self.cancel_ingest)
        self.search_box.returnPressed.connect(self.search)
        self.search_button.clicked.connect(self.search)
        self.hits.opened.connect(self.open_hit)
        self.files.selection_changed.connect(self._update_actions)

    # state -------------------------------------------------------------------------------

    @property
    def typed_name(self) -> str:
        """The name last typed for a new collection that has not been made yet ("" once
        made): "New…" offers it again, so an error never loses it."""
        return self._typed_name

    def current_collection(self) -> str | None:
        return self.collection_list.current_name()

    def collection_names(self) -> list[str]:
        return self.collection_list.names()

    def select_collection(self, name: str) -> None:
        self.collection_list.select(name)

    def _update_actions(self) -> None:
        have = self.current_collection() is not None
        idle = not self.ingesting
        self.drop_button.setEnabled(have and idle)
        self.add_files_button.setEnabled(have and idle)
        self.add_folder_button.setEnabled(have and idle)
        self.remove_file_button.setEnabled(have and idle and bool(self.files.selected_sources()))
        self.search_button.setEnabled(have)

    def refresh_collections(self) -> None:
        """Re-read the collections with their file counts, keeping the current one."""
        before = self.current_collection()
        current = self._select_after_refresh or before
        self._select_after_refresh = None
        try:
            summaries = self.documents.summaries()
        except CarrelError as exc:
            self.error.emit(exc.message)
            return
        self.collection_list.show_collections(summaries, current)
        if self.current_collection() != before:
            self._on_collection()
        else:  # the same collection: its files may have changed, its search hits stay
            self.refresh_files()
            self._update_actions()

    def refresh_files(self) -> None:
        """Show the current collection's files and their states."""
        name = self.current_collection()
        if name is None:
            self.files.clear()
            return
        try:
            records = self.documents.files(name)
        except CarrelError as exc:
            self.error.emit(exc.message)
            return
        live = self._live if self._ingest is not None and self._ingest.collection == name else {}
        self.files.show_files(records, self._outcomes.get(name, {}), live)

    def _on_collection(self) -> None:
        self.choice.show_collection(self.current_collection())
        self.hits.show_hits([])
        self.refresh_files()
        self._update_actions()

    # collections -------------------------------------------------------------------------

    def ask_new_collection(self) -> None:
        name, ok = QInputDialog.getText(
            self,
            "New collection",
            "Name (any name: spaces, accents and punctuation are kept as typed):",
            text=self._typed_name,
        )
        if ok and name.strip():
            self.create_collection(name.strip())

    def create_collection(self, name: str) -> TaskWorker:
        """Create (and open) a collection in a worker; it is selected when ready."""
        docs = self.documents
        self._typed_name = name  # offered again if the collection cannot be made

        def create() -> str:
            docs.index(name, create=True)
            return name

        return self._start(TaskWorker(create, self.log_file), self._on_created)

    def _on_created(self, name: str) -> None:
        self._typed_name = ""
        self._select_after_refresh = name
        self.refresh_collections()
        self.collections_changed.emit(self.collection_names())

    def ask_drop_collection(self) -> None:
        name = self.current_collection()
        if name is None:
            return
        question = f"Remove the collection '{name}' and its index? The files themselves stay."
        if ask(self, "Remove collection", question):
            self.drop_collection(name)

    def drop_collection(self, name: str) -> TaskWorker | None:
        """Delete a collection's index and records in a worker (not during an ingest)."""
        if self.ingesting:
            self.error.emit("Wait for the ingest to finish or cancel it, then remove.")
            return None
        docs = self.documents

        def drop() -> str:
            docs.drop(name)
            return name

        return self._start(TaskWorker(drop, self.log_file), self._on_dropped)

    def _on_dropped(self, name: str) -> None:
        self._outcomes.pop(name, None)
        self.refresh_collections()
        self.collections_changed.emit(self.collection_names())

    # removing ----------------------------------------------------------------------------

    def remove_selected(self) -> None:
        sources = self.files.selected_sources()
        if sources:
            self.remove_files(sources)

    def remove_files(self, sources: list[str]) -> TaskWorker | None:
        """Take files out of the current collection in a worker (not during an ingest)."""
        name = self.current_collection()
        if name is None or not sources:
            return None
        if self.ingesting:
            self.error.emit("Wait for the ingest to finish or cancel it, then remove files.")
            return None
        docs = self.documents

        def remove() -> list[str]:
            return docs.remove_all(sources, name)

        return self._start(TaskWorker(remove, self.log_file), self._on_removed)

    def _on_removed(self, sources: list[str]) -> None:
        for outcomes in self._outcomes.values():
            for source in sources:
                outcomes.pop(source, None)
        self.refresh_collections()
        self.files_removed.emit(sources)

    # search ------------------------------------------------------------------------------

    def search(self, query: str | None = None) -> TaskWorker | None:
        """Search the current collection in a worker; the hits replace the list."""
        text = (query if query is not None else self.search_box.text()).strip()
        name = self.current_collection()
        if not text or name is None:
            return None
        if query is not None:
            self.search_box.setText(query)
        docs = self.documents

        def run() -> list[Citation]:
            return docs.search(text, name, SEARCH_K)

        return self._start(TaskWorker(run, self.log_file), self._on_searched)

    def _on_searched(self, citations: list[Citation]) -> None:
        self.hits.show_hits(citations)
        self.searched.emit(citations)

    def open_hit(self, citation: Citation) -> None:
        """Show a hit in the built-in viewer, at its page with the passage marked."""
        try:
            url = viewer_for(self).open_citation(citation)
        except CarrelError as exc:
            self.error.emit(exc.message)
            return
        self.citation_opened.emit(url)

    # workers -----------------------------------------------------------------------------

    def _start(self, worker: TaskWorker, on_result: Callable[[Any], None]) -> TaskWorker:
        worker.result.connect(on_result)
        worker.failed.connect(self.error)
        self._workers.start(worker)
        return worker

    def shutdown(self) -> None:
        """Cancel the ingest and wait for every worker (call before the window closes)."""
        if self._ingest is not None:
            self._ingest.cancel()
        self._workers.shutdown()
