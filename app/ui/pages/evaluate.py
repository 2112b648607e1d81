"""`EvaluatePage`: evaluate models on the person's own documents — test sets (import,
export, draft, accept or drop questions), runs with progress and ETA, the results table,
blind review (`ReviewPanel`), the report (HTML and CSV), the suggested routes, and the usage
of everyday replies (`UsagePanel`).

Everything goes through `app.evaluate.Evaluation` over the window's Workbench; creating
the page also starts recording everyday replies (the usage log). Runs and other blocking
calls go to workers (`app.ui.pages.evaluate_workers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.evaluate.service import Evaluation
from app.ui.pages.evaluate_review import ReviewPanel
from app.ui.pages.evaluate_runs import RunsPanel, row
from app.ui.pages.evaluate_usage import UsagePanel
from app.ui.workers import TaskWorker, WorkerSet
from app.workbench import Workbench

if TYPE_CHECKING:
    from app.ui.window_frame import WindowFrame


class EvaluatePage(QWidget):
    """The Evaluate tab.

    Signals: `sets_changed()` after an import or draft; `error(str)` with a message for a
    person. Its `runs` panel (`RunsPanel`) has the signals of runs and reports.
    """

    sets_changed = Signal()
    error = Signal(str)

    def __init__(
        self, workbench: Workbench, parent: QWidget | None = None, log_file: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.wb = workbench
        self.ev = Evaluation(workbench)
        self.log_file = log_file
        self._workers = WorkerSet(self)
        tabs = QTabWidget(self)
        tabs.addTab(self._sets_tab(), "Test sets")
        self.runs = RunsPanel(self.ev, self._workers, log_file, self)
        tabs.addTab(self.runs, "Runs")
        self.review = ReviewPanel(self)
        tabs.addTab(self.review, "Blind review")
        self.usage = UsagePanel(self.ev.usage, self)
        tabs.addTab(self.usage, "Usage")
        self.tabs = tabs
        layout = QVBoxLayout(self)
        self.message = QLabel("", self)
        layout.addWidget(self.message)
        layout.addWidget(tabs)
        self.error.connect(self.message.setText)
        self.runs.set_name = self.set_picker.currentText
        self.runs.error.connect(self.error)
        self.usage.error.connect(self.error)
        self.runs.review_requested.connect(self.start_review)
        # Filled when first shown: listing models and collections is no start-up work.

    # test sets ---------------------------------------------------------------------------

    def _sets_tab(self) -> QWidget:
        box = QWidget(self)
        self.set_picker = QComboBox(box)
        self.set_picker.currentTextChanged.connect(lambda _t: self.show_set())
        self.import_button = QPushButton("Import…", box)
        self.import_button.clicked.connect(lambda: self._choose_import())
        self.export_button = QPushButton("Export…", box)
        self.export_button.clicked.connect(lambda: self._choose_export())
        self.items = QTableWidget(0, 4, box)
        self.items.setHorizontalHeaderLabels(["#", "status", "question", "expected"])
        self.items.horizontalHeader().setStretchLastSection(True)
        self.accept_button = QPushButton("Accept", box)
        self.accept_button.clicked.connect(lambda: self.set_status("accepted"))
        self.drop_button = QPushButton("Drop", box)
        self.drop_button.clicked.connect(lambda: self.set_status("dropped"))
        self.draft_collection = QComboBox(box)
        self.draft_model = QComboBox(box)
        self.draft_count = QSpinBox(box)
        self.draft_count.setRange(1, 500)
        self.draft_count.setValue(10)
        self.draft_name = QLineEdit(box)
        self.draft_name.setPlaceholderText("new set name")
        self.draft_button = QPushButton("Draft questions", box)
        self.draft_button.clicked.connect(lambda: self.draft())
        top = row(QLabel("Set:", box), self.set_picker, self.import_button, self.export_button)
        edit = QHBoxLayout()
        edit.addWidget(self.accept_button)
        edit.addWidget(self.drop_button)
        edit.addStretch(1)
        draft = row(
            self.draft_name,
            self.draft_collection,
            self.draft_model,
            self.draft_count,
            self.draft_button,
        )
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.items, 1)
        layout.addLayout(edit)
        layout.addLayout(draft)
        return box

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Reread sets, collections, models, endpoints and runs."""
        current = self.set_picker.currentText()
        self.set_picker.blockSignals(True)
        self.set_picker.clear()
        self.set_picker.addItems(self.ev.sets.names())
        if current:
            self.set_picker.setCurrentText(current)
        self.set_picker.blockSignals(False)
        self.draft_collection.clear()
        self.draft_collection.addItems([c.name for c in self.wb.documents.collections()])
        models = [m.name for m in self.wb.models()]
        self.draft_model.clear()
        self.draft_model.addItems(models)
        self.runs.refresh()
        self.show_set()

    def show_set(self) -> None:
        name = self.set_picker.currentText()
        items = self.ev.sets.get(name).items if name else []
        self.items.setRowCount(len(items))
        for r, i in enumerate(items):
            for col, value in enumerate((str(i.id), i.status, i.question, i.expected)):
                self.items.setItem(r, col, QTableWidgetItem(value))

    def set_status(self, status: str) -> None:
        rows = {i.row() for i in self.items.selectedIndexes()}
        for r in rows:
            cell = self.items.item(r, 0)
            if cell is not None:
                self.ev.sets.edit(int(cell.text()), status=status)
        self.show_set()

    def import_file(self, name: str, path: Path, collection: str) -> None:
        self._task(lambda: self.ev.import_set(name, path, collection), self._sets_changed)

    def export_file(self, path: Path) -> None:
        self._task(lambda: self.ev.export_set(self.set_picker.currentText(), path), lambda _n: None)

    def draft(self) -> None:
        name = self.draft_name.text().strip() or self.set_picker.currentText()
        collection, model = self.draft_collection.currentText(), self.draft_model.currentText()
        n = self.draft_count.value()
        self._task(lambda: self.ev.draft(name, collection, model, n), self._sets_changed)

    def _sets_changed(self, test_set: Any) -> None:
        self.refresh()
        self.set_picker.setCurrentText(test_set.name)
        self.sets_changed.emit()

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a test set", "", "Test sets (*.csv *.jsonl)"
        )
        if path:
            self.import_file(Path(path).stem, Path(path), self.draft_collection.currentText())

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the test set", "", "CSV (*.csv);;JSONL (*.jsonl)"
        )
        if path:
            self.export_file(Path(path))

    # review ------------------------------------------------------------------------------

    def start_review(self, run_id: int) -> None:
        self.tabs.setCurrentWidget(self.review)
        self.review.start(self.ev.reviews(run_id))

    # workers -----------------------------------------------------------------------------

    def _task(self, fn: Any, on_result: Any) -> None:
        worker = TaskWorker(fn, self.log_file)
        worker.result.connect(on_result)
        worker.failed.connect(self.error)
        self._workers.start(worker)

    def shutdown(self) -> None:
        self.runs.stop_run()
        self._workers.shutdown()


def add_evaluate_page(window: WindowFrame) -> EvaluatePage:
    """The Evaluate tab, added to the window's tabs (the window calls `shutdown`)."""
    page = EvaluatePage(window.wb, window, window.log_file)
    window.tabs.addTab(page, "Evaluate")
    return page
