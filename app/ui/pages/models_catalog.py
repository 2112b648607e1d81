"""`CatalogTab`: the Models page's Catalog tab — the curated list, each row with its
size and fit verdict at the page's context once looked up on the hub, and a Download
button (a double-click does the same) that queues the download with the Hugging Face
tab's others.

A part of `ModelsPage` (a mixin, like `HubTab`): nothing here goes online until the
person presses Look up or Download; with `HF_HUB_OFFLINE` set the tab says so and asks
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.library.catalog import CatalogEntry
from app.library.catalog_fit import CatalogChoice, look_up
from app.library.download import DownloadJob
from app.library.errors import HubOfflineError
from app.library.service import ModelLibrary
from app.ui.pages import models_views as views
from app.ui.workers import TaskWorker

GOES_ONLINE = (
    "Recommended models. Look up and Download ask Hugging Face (online): the repository "
    "name goes out, and each request is written in the privacy ledger."
)


class CatalogTab:
    """The catalog tab's widgets and slots, mixed into `ModelsPage` (which declares the
    signals named below)."""

    library: ModelLibrary
    n_ctx: int
    tabs: QTabWidget
    error: SignalInstance
    catalog_listed: SignalInstance
    catalog_looked_up: SignalInstance

    # The page's own, which these slots use.
    _run: Callable[[Callable[[], Any], Callable[[Any], None]], TaskWorker]
    _queue_download: Callable[[DownloadJob], None]

    def _build_catalog(self, page: QWidget) -> QWidget:
        box = QWidget(page)
        offline = self.library.hub.offline
        self.catalog_hint = QLabel(HubOfflineError().message if offline else GOES_ONLINE, box)
        self.catalog_hint.setWordWrap(True)
        self.look_up_button = QPushButton("Look up sizes and fit", box)
        self.look_up_button.setToolTip("Ask Hugging Face for every row's file (goes online)")
        self.look_up_button.clicked.connect(self.look_up_all)
        self.look_up_button.setEnabled(not offline)
        self.catalog_table = views.CatalogTable(box)
        self.catalog_table.download_clicked.connect(self.download_entry)
        row = QHBoxLayout()
        row.addWidget(self.catalog_hint, 1)
        row.addWidget(self.look_up_button)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addWidget(self.catalog_table)
        return box

    def refresh_catalog(self) -> None:
        self._run(self.library.catalog, self._on_catalog)

    def _on_catalog(self, entries: list[CatalogEntry]) -> None:
        self.catalog_table.show_entries(entries)
        self.catalog_listed.emit(entries)

    def look_up_all(self) -> None:
        """Fill in every row's size and fit (one worker per row, each online briefly)."""
        for row in range(self.catalog_table.rowCount()):
            self.look_up_row(row)

    def look_up_row(self, row: int, download: bool = False) -> TaskWorker | None:
        """Ask the hub for row `row`'s file; then queue its download with `download`."""
        entry = self.catalog_table.entry(row)
        if entry is None or not entry.repo:
            return None  # an api-only entry: no file to look up
        if self.library.hub.offline:
            self.error.emit(HubOfflineError().message)
            return None
        library, n_ctx = self.library, self.n_ctx
        worker = self._run(
            lambda: look_up(library, entry, n_ctx),
            lambda found: self._on_looked_up(row, found, download),
        )
        worker.failed.connect(lambda message: self.catalog_table.show_problem(row, message))
        return worker

    def refresh_looked_up(self) -> None:
        """Look up again the rows already looked up (their fit at a new context)."""
        for row in range(self.catalog_table.rowCount()):
            if self.catalog_table.looked_up(row):
                self.look_up_row(row)

    def download_entry(self, row: int) -> TaskWorker | None:
        return self.look_up_row(row, download=True)

    def _on_looked_up(self, row: int, found: CatalogChoice, download: bool) -> None:
        self.catalog_table.show_choice(row, found.size, found.choice.fit)
        self.catalog_looked_up.emit(found)
        if download:
            library = self.library
            repo, filename = found.details.id, found.filename
            self._run(lambda: library.prepare_download(repo, filename), self._queue_download)
            self.tabs.setCurrentIndex(2)  # the Hugging Face tab, where downloads show
