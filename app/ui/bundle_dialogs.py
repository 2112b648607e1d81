"""File → Export bundle… and Import bundle…: air-gap bundles (`app.bundle`) from the window.

Export: tick models and collections, pick where to write, and watch it go. Import: pick a
bundle; it is read and verified first (nothing placed), then, if the library already has a
model or collection of the same name, the person is asked (replace, keep mine, or cancel)
before anything is placed. All of it runs in workers, with progress and a Stop button.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.bundle import BundleProgress, ExportReport, ImportReport, StagedImport
from app.bundle.place import Choice
from app.bundle.stream import ProgressCallback
from app.ui.workers import TaskWorker, Worker, WorkerSet
from app.workbench import Workbench

Step = Callable[[ProgressCallback, threading.Event], Any]


class BundleWorker(Worker):
    """Runs one bundle step (export, read and verify, or place) off the GUI thread.

    Signals: `progress(object)` with a copy of each `BundleProgress`, `result(object)` with
    the step's report, `failed(str)`, `finished()`. `cancel()` stops it between chunks.
    """

    progress = Signal(object)

    def __init__(self, step: Step, log_file: Path | None = None) -> None:
        super().__init__(log_file)
        self._step = step
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def work(self) -> Any:
        return self._step(lambda p: self.progress.emit(dataclasses.replace(p)), self._cancel)


class _BundleDialog(QDialog):
    """What both dialogs share: a progress bar, a status line, Stop, and the worker."""

    def __init__(self, title: str, parent: QWidget, workers: WorkerSet, log_file: Path | None):
        super().__init__(parent)
        self.setWindowTitle(f"{title} — Carrel")
        self._workers = workers
        self._log_file = log_file
        self._worker: BundleWorker | None = None
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(self)
        self.stop_button = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.RejectRole)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.close)

    def _run(self, step: Step, done: Callable[[Any], None]) -> BundleWorker:
        worker = BundleWorker(step, self._log_file)
        worker.progress.connect(self._on_progress)
        worker.result.connect(done)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self.stop_button.setEnabled(True)
        self._busy(True)
        self._workers.start(worker)
        return worker

    def _on_progress(self, p: BundleProgress) -> None:
        self.bar.setValue(int(p.fraction * 1000))
        self.status.setText(p.describe())

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #8a1c12;")

    def _on_finished(self) -> None:
        self._worker = None
        self.stop_button.setEnabled(False)
        self._busy(False)

    def _busy(self, busy: bool) -> None:
        """Enable what may be done now (the subclass knows its buttons)."""

    @property
    def running(self) -> bool:
        return self._worker is not None

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)


class ExportBundleDialog(_BundleDialog):
    """Tick models and collections, choose the file, Export.

    Signals: `listed()` once the models and collections are shown, `exported(object)` with
    the `ExportReport`.
    """

    listed = Signal()
    exported = Signal(object)

    def __init__(self, wb: Workbench, parent: QWidget, workers: WorkerSet, log_file: Path | None):
        super().__init__("Export bundle", parent, workers, log_file)
        self.wb = wb
        self.models = QListWidget(self)
        self.collections = QListWidget(self)
        self.path_edit = QLineEdit(str(Path.home() / "carrel-bundle.tar"), self)
        choose = QPushButton("Choose…", self)
        choose.clicked.connect(self._choose)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.clicked.connect(self.export)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(choose)
        lists = QHBoxLayout()
        for label, widget in (("Models", self.models), ("Collections", self.collections)):
            column = QVBoxLayout()
            column.addWidget(QLabel(label, self))
            column.addWidget(widget)
            lists.addLayout(column)
        layout = QVBoxLayout(self)
        layout.addLayout(lists, 1)
        layout.addLayout(row)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(720, 480)

    def load(self) -> None:
        """List the models and collections off the GUI thread."""

        def names() -> tuple[list[str], list[str]]:
            return [m.name for m in self.wb.models()], [
                c.name for c in self.wb.documents.collections()
            ]

        lister = TaskWorker(names, self._log_file)
        lister.result.connect(self._show)
        lister.failed.connect(self._on_failed)
        self._workers.start(lister)

    def _show(self, found: tuple[list[str], list[str]]) -> None:
        for widget, names in zip((self.models, self.collections), found, strict=True):
            widget.clear()
            for name in names:
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                widget.addItem(item)
        self.listed.emit()

    def check(self, models: list[str], collections: list[str]) -> None:
        """Tick these names (the rest are unticked)."""
        for widget, names in ((self.models, models), (self.collections, collections)):
            for i in range(widget.count()):
                item = widget.item(i)
                ticked = item.text() in names
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def _ticked(self, widget: QListWidget) -> list[str]:
        items = (widget.item(i) for i in range(widget.count()))
        return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]

    def _choose(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export bundle", self.path_edit.text(), "Carrel bundles (*.tar)"
        )
        if path:
            self.path_edit.setText(path)

    def export(self) -> BundleWorker | None:
        models, collections = self._ticked(self.models), self._ticked(self.collections)
        out = Path(self.path_edit.text().strip()).expanduser()
        if not (models or collections) or not out.name:
            self._on_failed("Tick at least one model or collection, and name the file.")
            return None
        bundles = self.wb.bundles()
        self.status.setStyleSheet("")
        return self._run(
            lambda progress, cancel: bundles.export(out, models, collections, progress, cancel),
            self._on_exported,
        )

    def _on_exported(self, report: ExportReport) -> None:
        self.bar.setValue(1000)
        self.status.setText(report.describe().capitalize())
        self.exported.emit(report)

    def _busy(self, busy: bool) -> None:
        self.export_button.setEnabled(not busy)


class ImportBundleDialog(_BundleDialog):
    """Read and verify a bundle, ask about names the library has, then place it.

    Signals: `staged(object)` with the verified `StagedImport`, `asked(object)` with the
    question (a `QMessageBox`, open) when names are taken, `imported(object)` with the
    `ImportReport`.
    """

    staged = Signal(object)
    asked = Signal(object)
    imported = Signal(object)

    def __init__(self, wb: Workbench, parent: QWidget, workers: WorkerSet, log_file: Path | None):
        super().__init__("Import bundle", parent, workers, log_file)
        self.wb = wb
        self._found: StagedImport | None = None
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("A Carrel bundle (.tar)")
        choose = QPushButton("Choose…", self)
        choose.clicked.connect(self._choose)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.import_button.clicked.connect(self.start)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(choose)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Every file is checked against the bundle's manifest before anything is added.",
                self,
            )
        )
        layout.addLayout(row)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(640, 220)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import bundle", str(Path.home()), "Carrel bundles (*.tar);;All files (*)"
        )
        if path:
            self.path_edit.setText(path)

    def start(self) -> BundleWorker | None:
        """Read and verify the bundle (nothing is placed yet)."""
        archive = Path(self.path_edit.text().strip()).expanduser()
        if not archive.name:
            self._on_failed("Choose a bundle first.")
            return None
        bundles = self.wb.bundles()
        self.status.setStyleSheet("")
        return self._run(
            lambda progress, cancel: bundles.stage(archive, progress, cancel), self._on_staged
        )

    def _on_staged(self, found: StagedImport) -> None:
        self._found = found
        self.staged.emit(found)
        if not found.conflicts:
            self._place(None)
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Import bundle",
            f"This library already has {', '.join(found.conflicts)}. Replace them with the "
            "bundle's, or keep yours and add the rest?",
            parent=self,
        )
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def answered() -> None:
            clicked = box.clickedButton()
            choice: Choice | None = (
                "replace" if clicked is replace else "skip" if clicked is keep else None
            )
            if choice is None:
                self._discard()
            else:
                self._place(choice)

        box.finished.connect(lambda _code: answered())
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.asked.emit(box)

    def _place(self, choice: Choice | None) -> None:
        found, self._found = self._found, None
        assert found is not None
        bundles = self.wb.bundles()
        self._run(lambda _progress, _cancel: bundles.place(found, choice), self._on_imported)

    def _discard(self) -> None:
        found, self._found = self._found, None
        if found is not None:
            self._run(
                lambda _p, _c: found.discard(),
                lambda _r: self.status.setText("Nothing was imported."),
            )

    def _on_imported(self, report: ImportReport) -> None:
        self.bar.setValue(1000)
        self.status.setText(f"Verified and {report.describe()}.")
        self.imported.emit(report)

    def _busy(self, busy: bool) -> None:
        self.import_button.setEnabled(not busy)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._found is not None and not self.running:
            self._discard()
        super().closeEvent(event)


def open_export(
    wb: Workbench, parent: QWidget, workers: WorkerSet, log_file: Path | None
) -> ExportBundleDialog:
    dialog = ExportBundleDialog(wb, parent, workers, log_file)
    _show(dialog)
    dialog.load()
    return dialog


def open_import(
    wb: Workbench, parent: QWidget, workers: WorkerSet, log_file: Path | None
) -> ImportBundleDialog:
    dialog = ImportBundleDialog(wb, parent, workers, log_file)
    _show(dialog)
    return dialog


def _show(dialog: QDialog) -> None:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
