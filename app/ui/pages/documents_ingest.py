"""`IngestPart`: how the Documents page adds files — by dialog or drag-and-drop, with a
live file list (each file queued, reading, embedding, then its outcome, from the ingest's
"files" events), the collection's file count as files settle, progress and cancel.

A part of `DocumentsPage` (a mixin: the page's signals, lists and workers are its own),
kept apart because it is one idea: a running ingest as the page shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QWidget

from app.errors import CarrelError
from app.rag.outcome import FileOutcome, IngestProgress, IngestReport
from app.rag.service import Documents
from app.ui.pages import documents_views as views
from app.ui.pages.ingest_worker import IngestWorker
from app.ui.workers import WorkerSet


class IngestPart:
    """The adding half of `DocumentsPage` (which declares the signals named below and
    makes the widgets and state these slots use)."""

    documents: Documents
    log_file: Path
    error: SignalInstance
    ingest_started: SignalInstance
    ingest_progress: SignalInstance
    ingest_finished: SignalInstance
    collection_list: views.CollectionList
    files: views.FilesTable
    ingest_bar: views.IngestBar
    _workers: WorkerSet
    _ingest: IngestWorker | None
    _outcomes: dict[str, dict[str, FileOutcome]]
    _live: dict[str, str]
    # Whether the file list follows each file's state during an ingest (off: it changes
    # only as files settle, as it did before; the benchmark's reference).
    live_file_list = True

    # The page's own, which these slots use.
    current_collection: Callable[[], str | None]
    refresh_files: Callable[[], None]
    refresh_collections: Callable[[], None]
    _update_actions: Callable[[], None]

    @property
    def ingesting(self) -> bool:
        return self._ingest is not None

    # adding ------------------------------------------------------------------------------

    def ask_add_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self._widget(), "Add files to the collection")
        if names:
            self.add_paths([Path(n) for n in names])

    def ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._widget(), "Add a folder to the collection")
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path], collection: str | None = None) -> IngestWorker | None:
        """Index `paths` (files or folders) into `collection` (default: the current one)."""
        name = collection or self.current_collection()
        if name is None:
            self.error.emit("Create a collection first (New…), then add files to it.")
            return None
        if self.ingesting:
            self.error.emit("An ingest is already running: wait for it or cancel it first.")
            return None
        worker = IngestWorker(self.documents, paths, name, self.log_file)
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_ingested)
        worker.failed.connect(self._on_ingest_failed)
        worker.finished.connect(self._on_ingest_finished)
        self._ingest = worker
        self._live = {}
        self.ingest_bar.begin(name)
        self._update_actions()
        self.ingest_started.emit(worker)
        self._workers.start(worker)
        return worker

    def cancel_ingest(self) -> None:
        if self._ingest is not None:
            self._ingest.cancel()
            self.ingest_bar.cancelling()

    def _on_progress(self, p: IngestProgress) -> None:
        if self._ingest is None:
            return
        shown = self._ingest.collection == self.current_collection()
        if p.event == "files":
            if not self.live_file_list:
                return
            for source in p.sources:
                self._live[source] = p.file_state
            if shown and p.file_state in views.LIVE_STATES:
                self.files.set_state(p.sources, p.file_state)
        else:
            self.ingest_bar.show_progress(p)
        if p.event == "file":
            if shown:
                self.refresh_files()
            self._show_counts()
        self.ingest_progress.emit(p)

    def _show_counts(self) -> None:
        try:
            self.collection_list.show_counts(self.documents.summaries())
        except CarrelError as exc:
            self.error.emit(exc.message)

    def _on_ingested(self, report: IngestReport) -> None:
        name = self._ingest.collection if self._ingest is not None else None
        if name is not None:
            self._outcomes[name] = {f.source: f for f in report.files}
        self.ingest_bar.idle(report.describe())
        self._finish_ingest(report)

    def _on_ingest_failed(self, message: str) -> None:
        self.ingest_bar.idle("The ingest stopped: " + message)
        self.error.emit(message)
        self._finish_ingest(None)

    def _finish_ingest(self, report: IngestReport | None) -> None:
        self._ingest = None
        self._live = {}
        self.refresh_collections()
        self._update_actions()
        self.ingest_finished.emit(report)

    def _on_ingest_finished(self) -> None:
        if self._ingest is not None:  # neither result nor failed came (should not happen)
            self._finish_ingest(None)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if views.local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = views.local_paths(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    def _widget(self) -> QWidget:
        assert isinstance(self, QWidget)
        return self
