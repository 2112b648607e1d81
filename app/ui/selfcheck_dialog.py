"""Help → Self-check…: the same checks as `carrel self-check`, run by a worker off the GUI
thread, each line shown as its check ends, then the verdict."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import Paths
from app.selfcheck import CheckResult, SelfCheck
from app.ui.workers import Worker, WorkerSet

PASS_COLOUR = "#1d6b35"
FAIL_COLOUR = "#8a1c12"


class SelfCheckWorker(Worker):
    """Runs every self-check in a throw-away home (`app.selfcheck`).

    Signals: `checked(object)` with each `CheckResult` as it is known, `result(object)`
    with the list of them, `failed(str)`, `finished()`. `cancel()` stops it between checks.
    """

    checked = Signal(object)

    def __init__(self, paths: Paths, log_file: Path | None = None) -> None:
        super().__init__(log_file)
        self._paths = paths
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def work(self) -> list[CheckResult]:
        return SelfCheck(self._paths).run(self.checked.emit, self._cancel)


class SelfCheckDialog(QDialog):
    """The checks' lines as they come in, and whether all passed.

    Signals: `completed(bool)` once every check has run, with whether all passed.
    """

    completed = Signal(bool)

    def __init__(
        self, parent: QWidget, paths: Paths, workers: WorkerSet, log_file: Path | None
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self.setWindowTitle("Self-check — Carrel")
        self.resize(760, 330)
        self._workers = workers
        self._log_file = log_file
        self._worker: SelfCheckWorker | None = None
        self.results: list[CheckResult] = []
        self.lines = QListWidget(self)
        self.verdict = QLabel(
            "Checking the model, the embedder and index, search, the key store and the "
            "network guard, offline, in a throw-away folder…",
            self,
        )
        self.verdict.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(buttons)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self) -> SelfCheckWorker:
        worker = SelfCheckWorker(self._paths, self._log_file)
        worker.checked.connect(self._on_checked)
        worker.result.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._workers.start(worker)
        return worker

    def _on_checked(self, result: CheckResult) -> None:
        self.results.append(result)
        item = QListWidgetItem(result.describe())
        item.setForeground(QColor(PASS_COLOUR if result.ok else FAIL_COLOUR))
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.lines.addItem(item)

    def _on_done(self, results: list[CheckResult]) -> None:
        failed = [r for r in results if not r.ok]
        if failed:
            names = ", ".join(r.name for r in failed)
            self.verdict.setText(f"{len(failed)} of {len(results)} checks failed: {names}.")
            self.verdict.setStyleSheet(f"color: {FAIL_COLOUR};")
        else:
            seconds = sum(r.seconds for r in results)
            self.verdict.setText(f"All {len(results)} checks passed ({seconds:.0f} s).")
            self.verdict.setStyleSheet(f"color: {PASS_COLOUR};")
        self.completed.emit(not failed)

    def _on_failed(self, message: str) -> None:
        self.verdict.setText(message)
        self.verdict.setStyleSheet(f"color: {FAIL_COLOUR};")
        self.completed.emit(False)

    def _on_finished(self) -> None:
        self._worker = None

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._worker is not None:
            self._worker.cancel()  # the check under way ends; the rest do not start
        super().closeEvent(event)


def open_self_check(
    parent: QWidget, paths: Paths, workers: WorkerSet, log_file: Path | None
) -> SelfCheckDialog:
    """Show the dialog (window-modal) and start the checks; its throw-away home is made
    under `paths` (the window's), so it never touches the person's collections."""
    dialog = SelfCheckDialog(parent, paths, workers, log_file)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.open()
    dialog.start()
    return dialog
