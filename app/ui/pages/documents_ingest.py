"""`IngestPart`: how the Documents page adds files — by dialog or drag-and-drop, with a
live file list (each file queued, reading, embedding, then its outcome, from the ingest's
"files" events), the collection's file count as files settle, progress and cancel.

A folder may hold thousands of small files that settle hundreds a second, so no event
costs the GUI thread work in proportion to the files listed: a state moves the rows it
names, and what settled files became (their records, the collection's count) is read for
those files only, at once for the first and then at most every `SETTLE_MS`.

A part of `DocumentsPage` (a mixin: the page's signals, lists and workers are its own),
kept apart because it is one idea: a running ingest as the page shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer, SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QWidget

from app.errors import CarrelError
from app.rag.outcome import FileOutcome, IngestProgress, IngestReport
from app.rag.service import Documents
from app.ui.pages import documents_views as views
from app.ui.pages.files_table import FilesTable
from app.ui.pages.ingest_worker import IngestWorker
from app.ui.workers import WorkerSet

# What settled files became reaches the list at most this often after the first (each
# time a records query for those files and one for the collections' counts).
SETTLE_MS = 250


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
    files: FilesTable
    ingest_bar: views.IngestBar
    _workers: WorkerSet
    _ingest: IngestWorker | None
    _outcomes: dict[str, dict[str, FileOutcome]]
    _live: dict[str, str]
    # Whether the file list follows each file's state during an ingest (off: it changes
    # only as files settle, as it did before; the benchmark's reference).
    live_file_list = True
    # Files settled since the list last showed what they became.
    _settled: set[str]
    _settle_due: bool
    _settle_timer: QTimer

    # The page's own, which these slots use.
    current_collection: Callable[[], str | None]
    refresh_files: Callable[[], None]
    refresh_collections: Callable[[], None]
    _update_actions: Callable[[], None]

    def _init_settling(self) -> None:
        self._settled = set()
        self._settle_due = False
        self._settle_timer = QTimer(self._widget())
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._on_settle_timer)

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
            moving = p.file_state in views.LIVE_STATES
            if moving and not self.live_file_list:
                return
            self._live.update(dict.fromkeys(p.sources, p.file_state))
            if not moving:
                self._settled.update(p.sources)
                self._settle_soon()
            elif shown:
                self.files.set_state(p.sources, p.file_state)
        else:
            self.ingest_bar.show_progress(p)
        if p.event == "file":
            self._settle_soon()
        self.ingest_progress.emit(p)

    def _settle_soon(self) -> None:
        """Show what the settled files became now, or when `SETTLE_MS` have passed since
        it was last shown."""
        if self._settle_timer.isActive():
            self._settle_due = True
            return
        self._show_settled()
        self._settle_timer.start()

    def _on_settle_timer(self) -> None:
        if self._settle_due:
            self._settle_due = False
            self._show_settled()
            self._settle_timer.start()

    def _show_settled(self) -> None:
        sources, self._settled = self._settled, set()
        name = self._ingest.collection if self._ingest is not None else None
        if sources and name is not None and name == self.current_collection():
            try:
                records = self.documents.files(name, sources)
            except CarrelError as exc:
                self.error.emit(exc.message)
            else:
                self.files.settle(sources, records, self._outcomes.get(name, {}), self._live)
        self._show_counts()

    def _show_counts(self) -> None:
        try:
            self.collection_list.show_counts(self.documents.summaries())
        except CarrelError as exc:
            self.error.emit(exc.message)

    def _from_current(self) -> IngestWorker | None:
        """The ingest running now, if the signal being handled is its own: a worker's last
        signals may still be queued when the next ingest starts (the finished of one once
        ended the next as if it had failed)."""
        return self._ingest if self._widget().sender() is self._ingest else None

    def _on_ingested(self, report: IngestReport) -> None:
        worker = self._from_current()
        if worker is None:
            return
        self._outcomes[worker.collection] = {f.source: f for f in report.files}
        self.ingest_bar.idle(report.describe())
        self._finish_ingest(report)

    def _on_ingest_failed(self, message: str) -> None:
        if self._from_current() is None:
            return
        self.ingest_bar.idle("The ingest stopped: " + message)
        self.error.emit(message)
        self._finish_ingest(None)

    def _finish_ingest(self, report: IngestReport | None) -> None:
        self._settle_timer.stop()
        self._settle_due = False
        self._settled = set()
        self._ingest = None
        self._live = {}
        self.refresh_collections()
        self._update_actions()
        self.ingest_finished.emit(report)

    def _on_ingest_finished(self) -> None:
        if self._from_current() is not None:  # neither result nor failed came (should not happen)
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
