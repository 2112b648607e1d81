"""`ModelsPage`: the model library in three tabs — Installed (info, verify, remove,
import, quantize, use in chat), Catalog (the curated list; sizes, fit and Download once
asked: `app.ui.pages.models_catalog.CatalogTab`), Hugging Face (search, a repository's
quant files with fit badges, downloads with progress, pause, resume, cancel; its widgets
and slots are `app.ui.pages.models_hub.HubTab`).

Every call that may touch the network, the hub or the disk runs in a worker; downloads run
on the library's own queue thread and report here through signals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.engine.devices import SystemReport
from app.library.hub import RepoDetails
from app.library.listings import InstalledModel
from app.library.overview import LibrarySize
from app.library.service import ModelLibrary
from app.library.sideload import ImportReport
from app.library.verification import Verification
from app.ui.pages import models_views as views
from app.ui.pages.models_catalog import CatalogTab
from app.ui.pages.models_dialogs import ImportDialog, QuantizeDialog
from app.ui.pages.models_hub import HubTab, JobBridge
from app.ui.pages.models_info import info_html
from app.ui.widgets import ask
from app.ui.workers import TaskWorker, Worker, WorkerSet
from app.workbench import Workbench

# The context lengths the page's fit verdicts can be given for.
CONTEXTS = [2048, 4096, 8192, 16384, 32768, 131072]


class ModelsPage(CatalogTab, HubTab, QWidget):
    """The Models page over `workbench.library`.

    Signals: `error(str)` with a message for the window's error bar; `online(bool)` when
    the app goes online for the hub and back offline (for the status bar);
    `installed_listed(list)` with the `InstalledModel`s shown; `catalog_listed(list)`;
    `searched(list)` with the `RepoSummary`s; `files_listed(object)` with the
    `RepoDetails` whose quant table is shown; `download_added(object)`,
    `download_progress(object)` and `download_finished(object)` with the `DownloadJob`
    (finished: done, failed or cancelled); `imported(list)` with `ModelRecord`s (and
    `duplicate_import(str)` with the warning when files were left out because the
    library has them already); `verified(object)` with the `Verification`;
    `removed(str)`; `info_shown(dict)`;
    `quantized(object)` with the new `ModelRecord`; `system_listed(object)` with the
    `SystemReport` of llama.cpp's build and devices shown above the installed models;
    `catalog_looked_up(object)` with a `CatalogChoice` (a catalog row's file, size and
    fit); `use_in_chat(str)` with the name of the installed model to chat with;
    `library_sized(object)` with the `LibrarySize` shown.
    """

    error = Signal(str)
    online = Signal(bool)
    installed_listed = Signal(list)
    catalog_listed = Signal(list)
    searched = Signal(list)
    files_listed = Signal(object)
    download_added = Signal(object)
    download_progress = Signal(object)
    download_finished = Signal(object)
    imported = Signal(list)
    verified = Signal(object)
    removed = Signal(str)
    info_shown = Signal(dict)
    quantized = Signal(object)
    system_listed = Signal(object)
    catalog_looked_up = Signal(object)
    use_in_chat = Signal(str)
    duplicate_import = Signal(str)
    library_sized = Signal(object)
    _hub_online = Signal(bool)

    def __init__(
        self, workbench: Workbench, parent: QWidget | None = None, log_file: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.wb = workbench
        self.library: ModelLibrary = workbench.library
        self.log_file = log_file or workbench.paths.logs_dir / "carrel.log"
        self.n_ctx = 4096
        self._workers = WorkerSet(self)
        self._bridge = JobBridge(self)
        self._bridge.changed.connect(self._on_job_changed)
        self._last_emit: dict[int, float] = {}
        self._rows: list[InstalledModel] = []
        self.repo: RepoDetails | None = None
        self.quantize_dialog: QuantizeDialog | None = None
        self._finished: set[int] = set()
        self._hub_online.connect(self._on_online)
        self.library.listen_online(self._hub_listener)
        self._build()
        self.refresh_installed()
        self.refresh_catalog()
        self.refresh_system()

    # layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_installed(), "Installed")
        self.tabs.addTab(self._build_catalog(self), "Catalog")
        self.tabs.addTab(self._build_hub(self), "Hugging Face")
        self.online_label = QLabel("Offline", self)
        # The context every fit verdict on the page is for (Installed, Catalog, the hub).
        self.context_box = QComboBox(self)
        for n in CONTEXTS:
            self.context_box.addItem(f"{n:,} tokens", n)
        self.context_box.setCurrentIndex(CONTEXTS.index(self.n_ctx))
        self.context_box.setToolTip("The context length the Fit verdicts are for")
        self.context_box.currentIndexChanged.connect(
            lambda _i: self.set_context(int(self.context_box.currentData()))
        )
        bottom = QHBoxLayout()
        bottom.addWidget(self.online_label, 1)
        bottom.addWidget(QLabel("Fit at context:", self))
        bottom.addWidget(self.context_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(bottom)

    def set_context(self, n_ctx: int) -> None:
        """Give every fit verdict at context `n_ctx`: Installed at once, the catalog rows
        already looked up (asking the hub again for their headers)."""
        self.n_ctx = n_ctx
        self.refresh_installed()
        self.refresh_looked_up()

    def _buttons(self, *pairs: tuple[str, Callable[[], Any]]) -> list[QPushButton]:
        buttons = []
        for text, slot in pairs:
            button = QPushButton(text, self)
            button.clicked.connect(lambda _=False, slot=slot: slot())
            buttons.append(button)
        return buttons

    def _build_installed(self) -> QWidget:
        box = QWidget(self)
        self.installed_table = views.InstalledTable(box)
        (
            self.info_button,
            self.verify_button,
            self.remove_button,
            self.import_button,
            self.quantize_button,
            self.use_button,
        ) = buttons = self._buttons(
            ("Info", self.show_info),
            ("Verify", self.verify_selected),
            ("Remove", self.remove_selected),
            ("Import…", self.open_import_dialog),
            ("Quantize…", self.open_quantize_dialog),
            ("Use in chat", self.use_selected),
        )
        self.use_button.setToolTip("Load this model for the Chat page and go there")
        self.details = QTextBrowser(box)
        self.details.setOpenLinks(False)
        self.disk_label = QLabel("", box)
        self.system_label = QLabel("Asking llama.cpp for its devices…", box)
        self.system_label.setWordWrap(True)
        self.system_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        for b in buttons:
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.disk_label)
        splitter = QSplitter(Qt.Orientation.Vertical, box)
        splitter.addWidget(self.installed_table)
        splitter.addWidget(self.details)
        layout = QVBoxLayout(box)
        layout.addWidget(self.system_label)
        layout.addLayout(row)
        layout.addWidget(splitter)
        return box

    # workers -----------------------------------------------------------------------------

    def _run(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> TaskWorker:
        worker = TaskWorker(fn, self.log_file)
        worker.result.connect(done)
        worker.failed.connect(self.error.emit)
        self._workers.start(worker)
        return worker

    def start_worker(self, worker: Worker) -> Worker:
        worker.failed.connect(self.error.emit)
        return self._workers.start(worker)

    def _hub_listener(self, online: bool) -> None:
        """Called by the hub client on whichever thread went online or offline."""
        self._hub_online.emit(online)

    def _on_online(self, online: bool) -> None:
        self.online_label.setText("Online: asking Hugging Face" if online else "Offline")
        self.online.emit(online)

    # this machine (llama.cpp's build and the devices ggml lists) -------------------------

    def refresh_system(self) -> None:
        self._run(self.wb.system_report, self._on_system)

    def _on_system(self, report: SystemReport) -> None:
        self.system_label.setText(report.describe())
        self.system_listed.emit(report)

    # installed ---------------------------------------------------------------------------

    def refresh_installed(self) -> None:
        library, n_ctx = self.library, self.n_ctx

        def listing() -> tuple[list[InstalledModel], LibrarySize]:
            return library.installed(n_ctx), library.size()

        self._run(listing, self._on_installed)

    def _on_installed(self, value: tuple[list[InstalledModel], LibrarySize]) -> None:
        rows, size = value
        self._rows = rows
        self.installed_table.show_rows(rows)
        self.disk_label.setText(size.describe())
        self.installed_listed.emit(rows)
        self.library_sized.emit(size)

    def select_installed(self, name: str) -> bool:
        names = [n.casefold() for n in self.installed_table.column_texts(0)]
        if name.casefold() not in names:
            return False
        self.installed_table.selectRow(names.index(name.casefold()))
        return True

    def selected_name(self) -> str | None:
        name = self.installed_table.selected_data()
        return str(name) if name else None

    def _need_selection(self) -> str | None:
        name = self.selected_name()
        if name is None:
            self.error.emit("Pick a model in the Installed list first.")
        return name

    def show_info(self) -> None:
        name = self._need_selection()
        if name is None:
            return
        library, n_ctx = self.library, self.n_ctx
        self._run(lambda: library.info(name, n_ctx), self._on_info)

    def _on_info(self, data: dict[str, Any]) -> None:
        self.details.setHtml(info_html(data))
        self.info_shown.emit(data)

    def verify_selected(self) -> None:
        name = self._need_selection()
        if name is None:
            return
        self.details.setPlainText(f"Verifying {name}…")
        library = self.library
        self._run(lambda: library.verify_model(name), self._on_verified)

    def _on_verified(self, found: Verification) -> None:
        self.details.setPlainText(found.describe())
        self.verified.emit(found)

    def use_selected(self) -> None:
        """Ask for the selected model to be loaded for chat (the window does it)."""
        name = self._need_selection()
        if name is None:
            return
        row = next((r for r in self._rows if r.info.name == name), None)
        if row is not None and row.info.role != "chat":
            self.error.emit(f"{name} is a {row.info.role} for documents, not a chat model.")
            return
        if row is not None and row.info.problem:
            self.error.emit(f"{name} cannot be used: {row.info.problem}")
            return
        self.use_in_chat.emit(name)

    def remove_selected(self, confirm: bool = True) -> None:
        name = self._need_selection()
        if name is None:
            return
        if confirm:
            question = f"Delete {name} from the library? Linked originals stay."
            if not ask(self, "Remove model", question):
                return
        library = self.library

        def remove() -> str:
            library.remove(name)
            return name

        self._run(remove, self._on_removed)

    def _on_removed(self, name: str) -> None:
        self.details.setPlainText(f"Removed {name}.")
        self.removed.emit(name)
        self.refresh_installed()

    def open_import_dialog(self) -> None:
        dialog = ImportDialog(self)
        if dialog.exec() and (choice := dialog.choice()) is not None:
            self.import_path(*choice)

    def import_path(self, path: Path, link: bool = False) -> None:
        """Import a file or every GGUF in a folder; a bad file is reported and the others
        are imported all the same."""
        library = self.library
        self.details.setPlainText(f"Importing {path}…")
        worker = TaskWorker(lambda: library.import_each(path, link=link), self.log_file)
        worker.result.connect(self._on_imported)
        worker.failed.connect(self._on_import_failed)
        self._workers.start(worker)

    def _on_import_failed(self, message: str) -> None:
        self.details.setPlainText(f"Import failed: {message}")
        self.error.emit(message)

    def _on_imported(self, report: ImportReport) -> None:
        self.details.setPlainText(report.describe())
        problems = [line for line in (report.problem(), report.warning()) if line]
        if problems:
            self.error.emit(" ".join(problems))
        if report.duplicates:
            self.duplicate_import.emit(report.warning())
        self.imported.emit(report.imported)
        if report.imported:
            self.refresh_installed()

    def open_quantize_dialog(self, show: bool = True) -> QuantizeDialog | None:
        name = self._need_selection()
        if name is None:
            return None
        row = next((r for r in self._rows if r.info.name == name), None)
        quant, size = (row.info.quant, row.info.size) if row is not None else ("unknown", 0)
        dialog = QuantizeDialog(self.library, name, quant, size, self.start_worker, self)
        dialog.quantized.connect(self._on_quantized)
        self.quantize_dialog = dialog
        if show:
            dialog.show()
        return dialog

    def _on_quantized(self, record: Any) -> None:
        self.quantized.emit(record)
        self.refresh_installed()

    # shutdown ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop listening to the hub and the downloads, and wait for running workers."""
        self.library.listen_online(self._hub_listener, stop=True)
        for row in self.download_list.rows.values():
            if self._job_listener in row.job.listeners:
                row.job.listeners.remove(self._job_listener)
        if self.quantize_dialog is not None and self.quantize_dialog.worker is not None:
            self.quantize_dialog.worker.cancel()
        self._workers.shutdown()
