"""The Models page's dialogs: Import (a file or folder, copied or linked in place) and
Quantize (target level, a quality warning for a quantized source, progress and cancel,
then size and tokens/s of source and result side by side), with the quantize worker."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.library.quant_targets import quant_targets, quantized_name
from app.library.quantize import Quantization, requantize_warning
from app.library.records import ModelRecord
from app.library.service import ModelLibrary
from app.ui.workers import Worker
from app.units import human_size


class ImportDialog(QDialog):
    """Pick a GGUF file or a folder, and whether to copy it into the library or link it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import models")
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("A .gguf file, or a folder of them")
        file_button = QPushButton("File…", self)
        folder_button = QPushButton("Folder…", self)
        file_button.clicked.connect(self._pick_file)
        folder_button.clicked.connect(self._pick_folder)
        self.copy_radio = QRadioButton("Copy into the library", self)
        self.link_radio = QRadioButton("Use in place (link; the file must stay there)", self)
        self.copy_radio.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        for w in (self.path_edit, file_button, folder_button):
            row.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.copy_radio)
        layout.addWidget(self.link_radio)
        layout.addWidget(buttons)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "GGUF file", "", "GGUF models (*.gguf)")
        if path:
            self.path_edit.setText(path)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with GGUF models")
        if path:
            self.path_edit.setText(path)

    def choice(self) -> tuple[Path, bool] | None:
        text = self.path_edit.text().strip()
        return (Path(text), self.link_radio.isChecked()) if text else None


class QuantizeWorker(Worker):
    """Quantizes one model (llama.cpp in a child process) and measures tokens/s.

    Signals: `progress(int, int)` tensors done of total, `phase(str)` ("measure" when the
    speeds are being timed), then `result(object)` with the `ModelRecord`, `failed(str)`,
    `finished()`. `cancel()` may be called from any thread."""

    progress = Signal(int, int)
    phase = Signal(str)

    def __init__(self, library: ModelLibrary, name: str, level: str) -> None:
        super().__init__()
        self._library = library
        self._name = name
        self._level = level
        self._lock = threading.Lock()
        self._job: Quantization | None = None
        self._cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            job = self._job
        if job is not None:
            job.cancel()

    def work(self) -> ModelRecord:
        job, _warning = self._library.start_quantize(
            self._name, self._level, self.progress.emit, on_phase=self.phase.emit
        )
        with self._lock:
            self._job = job
            if self._cancelled:
                job.cancel()
        return self._library.finish_quantize(job, self._library.model(self._name).name)


def comparison_text(record: ModelRecord) -> str:
    """Source and result side by side: size and tokens/s."""

    def tps(value: float) -> str:
        return f"{value:.1f} tok/s" if value else "not measured"

    return (
        f"{'':<8}{'size':>12}{'speed':>16}\n"
        f"{'source':<8}{human_size(record.parent_size):>12}{tps(record.parent_tokens_per_s):>16}\n"
        f"{'result':<8}{human_size(record.size):>12}{tps(record.tokens_per_s):>16}"
    )


class QuantizeDialog(QDialog):
    """Quantize one installed model: level, warning, progress, cancel, comparison.

    Signals: `quantized(object)` with the new `ModelRecord`; `failed(str)`."""

    quantized = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        library: ModelLibrary,
        name: str,
        source_quant: str,
        source_size: int,
        start: Callable[[Worker], Worker],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Quantize {name}")
        self._library = library
        self._name = name
        self._start = start
        self.worker: QuantizeWorker | None = None
        self.level_box = QComboBox(self)
        # Only levels smaller than the source's, each with the result's estimated size.
        for target in quant_targets(source_quant, source_size):
            text = target.describe() if target.estimated_size else target.level
            self.level_box.addItem(text, target.level)
        default = self.level_box.findData("Q4_K_M")
        self.level_box.setCurrentIndex(max(default, 0))
        self.output_label = QLabel("", self)
        self.level_box.currentIndexChanged.connect(lambda _i: self._show_output())
        self.warning = QLabel(requantize_warning(source_quant), self)
        self.warning.setWordWrap(True)
        self.warning.setVisible(bool(self.warning.text()))
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.result_label = QLabel("", self)
        self.result_label.setStyleSheet("font-family: monospace")
        self.result_label.setMinimumWidth(
            self.result_label.fontMetrics().horizontalAdvance("x" * 40)
        )
        self.start_button = QPushButton("Quantize", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self.cancel_button.setEnabled(False)
        grid = QGridLayout()
        grid.addWidget(QLabel(f"Source: {name} ({source_quant})", self), 0, 0, 1, 2)
        grid.addWidget(QLabel("Target level:", self), 1, 0)
        grid.addWidget(self.level_box, 1, 1)
        grid.addWidget(QLabel("Writes:", self), 2, 0)
        grid.addWidget(self.output_label, 2, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        for w in (self.warning, self.bar, self.status, self.result_label):
            layout.addWidget(w)
        layout.addLayout(buttons)
        self._show_output()
        if self.level_box.count() == 0:
            self.start_button.setEnabled(False)
            self.status.setText(
                f"There is no smaller level to quantize {source_quant} to; start from a "
                "full-precision (F16, BF16, F32) file instead."
            )

    def level(self) -> str:
        """The target level chosen ('' when none is offered)."""
        return str(self.level_box.currentData() or "")

    def levels(self) -> list[str]:
        """Every target level offered."""
        return [str(self.level_box.itemData(i)) for i in range(self.level_box.count())]

    def _show_output(self) -> None:
        level = self.level()
        self.output_label.setText(f"{quantized_name(self._name, level)}.gguf" if level else "—")

    def start(self) -> None:
        if not self.level():
            return
        worker = QuantizeWorker(self._library, self._name, self.level())
        worker.progress.connect(self._on_progress)
        worker.phase.connect(lambda _p: self.status.setText("Measuring tokens/s of both…"))
        worker.result.connect(self._on_result)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.start_button.setEnabled(False)
        self.level_box.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Quantizing…")
        self._start(worker)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling…")

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.status.setText(f"Quantizing: tensor {done} of {total}")

    def _on_result(self, record: ModelRecord) -> None:
        self.status.setText(f"Wrote {record.name}.")
        self.result_label.setText(comparison_text(record))
        self.adjustSize()  # the whole comparison shows, never cut off
        self.quantized.emit(record)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.failed.emit(message)

    def _on_finished(self) -> None:
        self.worker = None
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(bool(self.level()))
        self.level_box.setEnabled(True)

    def done(self, code: int) -> None:  # closing the dialog cancels a running job
        if self.worker is not None:
            self.worker.cancel()
        super().done(code)
