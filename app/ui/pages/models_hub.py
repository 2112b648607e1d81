"""`HubTab`: the Models page's Hugging Face tab: search, a repository's quant files with
fit badges, and the downloads it started (progress, pause, resume, cancel).

A part of `ModelsPage` (a mixin: the page's signals, workers and library are its own), kept
apart because it is one idea: what the page does with the hub. Nothing here goes online
until the person searches; with `HF_HUB_OFFLINE` set the tab says so and asks nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.library.download import CANCELLED, DONE, FAILED, DownloadJob
from app.library.errors import HubOfflineError
from app.library.hub import RepoDetails
from app.library.listings import QuantChoice
from app.library.service import ModelLibrary
from app.ui.pages import models_views as views
from app.ui.workers import TaskWorker

PROGRESS_EVERY = 0.1  # seconds between progress signals of one download


class JobBridge(QObject):
    """Carries a download job's changes from the queue's thread to the GUI thread."""

    changed = Signal(object)


class HubTab:
    """The hub tab's widgets and slots, mixed into `ModelsPage` (which declares the signals
    named below and makes `_bridge`, `_last_emit` and `_finished`)."""

    library: ModelLibrary
    n_ctx: int
    repo: RepoDetails | None
    error: SignalInstance
    searched: SignalInstance
    files_listed: SignalInstance
    download_added: SignalInstance
    download_progress: SignalInstance
    download_finished: SignalInstance
    _bridge: JobBridge
    _last_emit: dict[int, float]
    _finished: set[int]

    # The page's own, which these slots use.
    _run: Callable[[Callable[[], Any], Callable[[Any], None]], TaskWorker]
    _buttons: Callable[..., list[QPushButton]]
    refresh_installed: Callable[[], None]

    def _build_hub(self, page: QWidget) -> QWidget:
        box = QWidget(page)
        self.search_box = QLineEdit(box)
        self.search_box.setPlaceholderText("Search GGUF models on Hugging Face…")
        self.search_box.returnPressed.connect(self.search)
        self.sort_box = QComboBox(box)
        self.sort_box.addItems(["downloads", "likes", "recent"])
        (self.search_button,) = self._buttons(("Search", self.search))
        self.repo_table = views.RepoTable(box)
        self.repo_table.cellDoubleClicked.connect(lambda r, _c: self._open_row(r))
        self.repo_table.itemSelectionChanged.connect(
            lambda: self._open_row(self.repo_table.currentRow())
        )
        self.repo_label = QLabel("Pick a repository to see its files.", box)
        self.repo_label.setWordWrap(True)
        self.quant_table = views.QuantTable(box)
        self.quant_table.download_clicked.connect(self.download)
        self.download_list = views.DownloadList(box)
        scroll = QScrollArea(box)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.download_list)
        row = QHBoxLayout()
        for w in (self.search_box, QLabel("Sort by", box), self.sort_box, self.search_button):
            row.addWidget(w)
        # Said at once, and the search is switched off: the hub is never asked.
        self.hub_offline_label = QLabel(HubOfflineError().message, box)
        self.hub_offline_label.setWordWrap(True)
        self.hub_offline_label.setVisible(self.library.hub.offline)
        # Otherwise said plainly before anything is typed: this tab goes online.
        self.hub_online_label = QLabel(
            f"This tab goes online: searching sends your search words, and opening or "
            f"downloading a model asks {self.library.hub.host or 'the hub'} for it. Each "
            "request is written in the privacy ledger. Nothing is asked until you search.",
            box,
        )
        self.hub_online_label.setWordWrap(True)
        self.hub_online_label.setVisible(not self.library.hub.offline)
        for w in (self.search_box, self.sort_box, self.search_button):
            w.setEnabled(not self.library.hub.offline)
        layout = QVBoxLayout(box)
        layout.addWidget(self.hub_offline_label)
        layout.addWidget(self.hub_online_label)
        layout.addLayout(row)
        layout.addWidget(self.repo_table, 2)
        layout.addWidget(self.repo_label)
        layout.addWidget(self.quant_table, 2)
        layout.addWidget(QLabel("Downloads", box))
        layout.addWidget(scroll, 1)
        return box

    # search and files ---------------------------------------------------------------------

    def search(self) -> None:
        if self.library.hub.offline:
            self.error.emit(HubOfflineError().message)
            return
        query, sort = self.search_box.text().strip(), self.sort_box.currentText()
        library = self.library
        self.repo_label.setText(f"Searching Hugging Face for '{query}'…")
        worker = self._run(lambda: library.search(query, sort), self._on_searched)
        # A failure is not an empty result: the page's error bar says why (until
        # dismissed) and the list says the search failed.
        worker.failed.connect(lambda _m: self._on_search_failed(query))

    def _on_searched(self, repos: list[Any]) -> None:
        self.repo_table.blockSignals(True)
        self.repo_table.show_repos(repos)
        self.repo_table.blockSignals(False)
        self.repo_label.setText(
            f"{len(repos)} repositories." if repos else "No GGUF repositories match."
        )
        self.searched.emit(repos)

    def _on_search_failed(self, query: str) -> None:
        self.repo_table.blockSignals(True)
        self.repo_table.show_repos([])
        self.repo_table.blockSignals(False)
        self.repo_label.setText(
            f"The search for '{query}' failed (see above); nothing was found or not found."
        )

    def _open_row(self, row: int) -> None:
        item = self.repo_table.item(row, 0) if row >= 0 else None
        if item is not None:
            self.open_repo(item.text())

    def open_repo(self, repo: str) -> None:
        self.repo_label.setText(f"Reading {repo} and its header…")
        library, n_ctx = self.library, self.n_ctx
        self._run(lambda: library.files(repo, n_ctx), self._on_files)

    def _on_files(self, value: tuple[RepoDetails, list[QuantChoice]]) -> None:
        details, choices = value
        self.repo = details
        gated = "gated: accept its licence and add a token" if details.gated else "open access"
        self.repo_label.setText(
            f"{details.id} @ {details.revision[:12]} · licence: {details.license or 'unknown'}"
            f" · {gated} · fit at {self.n_ctx:,} context"
        )
        self.quant_table.show_choices(choices)
        self.files_listed.emit(details)

    def download(self, filename: str) -> None:
        if self.repo is None:
            self.error.emit("Open a repository first.")
            return
        repo, library = self.repo.id, self.library
        self._run(lambda: library.prepare_download(repo, filename), self._queue_download)

    # downloads ----------------------------------------------------------------------------

    def _queue_download(self, job: DownloadJob) -> None:
        row = self.download_list.add(job)
        row.pause_clicked.connect(lambda j: j.pause())
        row.resume_clicked.connect(self.library.downloads.resume)
        row.cancel_clicked.connect(lambda j: j.cancel())
        job.listeners.append(self._job_listener)
        self.download_added.emit(job)
        self.library.downloads.add(job)

    def _job_listener(self, job: DownloadJob) -> None:
        """Called on the download thread: forward state changes and ~10 progress/s."""
        now = time.monotonic()
        key = id(job)
        if job.state == "running" and now - self._last_emit.get(key, 0.0) < PROGRESS_EVERY:
            return
        self._last_emit[key] = now
        self._bridge.changed.emit(job)

    def _on_job_changed(self, job: DownloadJob) -> None:
        row = self.download_list.row(job)
        if row is not None:
            row.update_from(job)
        self.download_progress.emit(job)
        over = job.state in (DONE, FAILED, CANCELLED) and job.wait(0)
        if over and id(job) not in self._finished:
            self._finished.add(id(job))
            if job.state == FAILED and job.error is not None:
                self.error.emit(str(job.error))
            if job.state == DONE:
                self.refresh_installed()
            self.download_finished.emit(job)
