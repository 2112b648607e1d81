"""The Redaction tab's settings of the recognizers themselves: the phone region, and the
optional names model imported from disk."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.privacy.recognize.names import describe
from app.privacy.recognize.phone import guess_region
from app.privacy.redact import NO_NAMES
from app.ui.workers import TaskWorker, WorkerSet
from app.workbench import Workbench

# The regions offered first; any other two-letter code can be typed into the box.
REGIONS = "AT AU BE BR CA CH CN DE DK ES FI FR GB IE IN IT JP MX NL NO NZ PL PT SE US ZA"


class RecognizerBox(QGroupBox):
    """Phone region (from the locale unless chosen) and the names model (import a spaCy
    pipeline folder, or none). Saved as they are changed.

    Signals: `names_changed(str)` with the model's description ("" for none);
    `failed(str)` with a message for a person.
    """

    names_changed = Signal(str)
    failed = Signal(str)

    def __init__(self, wb: Workbench, workers: WorkerSet, parent: QWidget | None = None) -> None:
        super().__init__("How values are recognised", parent)
        self.wb = wb
        self._workers = workers
        guess = guess_region()
        self.region = QComboBox(self)
        self.region.setEditable(True)
        self.region.addItem(f"From the locale ({guess or 'none'})", "")
        for code in REGIONS.split():
            self.region.addItem(code, code)
        current = wb.privacy.policy.phone_region
        index = self.region.findData(current)
        if index < 0:
            self.region.addItem(current, current)
            index = self.region.count() - 1
        self.region.setCurrentIndex(index)
        self.region.activated.connect(self._save_region)
        self.names = QLabel(self)
        self.names.setWordWrap(True)
        self.import_button = QPushButton("Import a names model…", self)
        self.import_button.clicked.connect(lambda: self.import_names())
        self.forget_button = QPushButton("No names model", self)
        self.forget_button.clicked.connect(self.forget_names)
        row = QHBoxLayout()
        row.addWidget(QLabel("Phone numbers written as in:", self))
        row.addWidget(self.region, 1)
        names_row = QHBoxLayout()
        names_row.addWidget(self.names, 1)
        names_row.addWidget(self.import_button)
        names_row.addWidget(self.forget_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(names_row)
        self._show_names()

    def _save_region(self, index: int) -> None:
        data = self.region.itemData(index)
        code = str(data) if data is not None else self.region.currentText()
        try:
            self.wb.privacy.set_phone_region(code)
        except CarrelError as exc:
            self.failed.emit(exc.message)

    def _show_names(self) -> None:
        model = self.wb.privacy.policy.names_model
        if model:
            self.names.setText(
                f"Names, places and organisations: found with {describe(Path(model))}."
            )
        else:
            self.names.setText(NO_NAMES)
        self.forget_button.setEnabled(bool(model))

    def import_names(self, folder: str | Path | None = None) -> None:
        """Copy a spaCy pipeline folder into Carrel (in a worker: loading takes seconds)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "A spaCy pipeline folder")
            if not folder:
                return
        source, privacy = Path(folder), self.wb.privacy
        self.import_button.setEnabled(False)
        worker = TaskWorker(lambda: privacy.import_names_model(source))
        worker.result.connect(self._on_imported)
        worker.failed.connect(self._on_failed)
        self._workers.start(worker)

    def _on_imported(self, target: Path) -> None:
        self.import_button.setEnabled(True)
        self._show_names()
        self.names_changed.emit(describe(target))

    def _on_failed(self, message: str) -> None:
        self.import_button.setEnabled(True)
        self.failed.emit(message)

    def forget_names(self) -> None:
        self.wb.privacy.forget_names_model()
        self._show_names()
        self.names_changed.emit("")
