"""`RunsPanel`: the Evaluate page's runs — contestants to pick (installed models and enabled
endpoints, or specs typed in), a run with progress and ETA, stop and resume, the results
table, the report (HTML and CSV) and the suggested routes applied in one action."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.evaluate.contestants import Contestant
from app.evaluate.service import Evaluation
from app.ui.pages.evaluate_workers import RunWorker
from app.ui.workers import WorkerSet

if TYPE_CHECKING:
    from app.evaluate.report import Report
    from app.evaluate.runner import RunProgress

RESULT_COLUMNS = [
    ("contestant", "contestant"),
    ("answers", "answers"),
    ("quality", "quality"),
    ("total_ms", "total ms"),
    ("ttft_ms", "TTFT ms"),
    ("tokens_per_s", "tokens/s"),
    ("peak_rss_mb", "peak MiB"),
    ("cost", "cost"),
    ("retrieval_hit", "retrieval hit"),
    ("citation_support", "citation support"),
    ("contains_expected", "contains expected"),
    ("similarity", "similarity"),
]


def row(*widgets: QWidget) -> QHBoxLayout:
    """A horizontal row of `widgets`."""
    layout = QHBoxLayout()
    for w in widgets:
        layout.addWidget(w)
    return layout


def _figure(v: object) -> str:
    """1525 for a duration, 0.667 for a share, 0.0024 for a cost."""
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return str(v)


class RunsPanel(QWidget):
    """Runs of the test set chosen on the Test sets tab.

    Signals: `run_progress(object)` with each `RunProgress`; `run_finished(str)` with
    "finished" or "cancelled"; `report_written(str)` with the HTML file's path;
    `routes_applied()`; `review_requested(int)` with a run to review blind; `error(str)`.
    """

    run_progress = Signal(object)
    run_finished = Signal(str)
    report_written = Signal(str)
    routes_applied = Signal()
    review_requested = Signal(int)
    error = Signal(str)

    def __init__(
        self, ev: Evaluation, workers: WorkerSet, log_file: Path | None, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.ev = ev
        # The test set a new run asks (the page points it at its set picker).
        self.set_name: Callable[[], str] = lambda: ""
        self._workers = workers
        self.log_file = log_file
        self._run: RunWorker | None = None
        self._report: Report | None = None
        self._build()

    def refresh(self) -> None:
        """Reread the contestants on offer and the runs."""
        wb = self.ev.wb
        self.contestants.clear()
        specs = [f"local:{m.name}?k=4" for m in wb.models()]
        specs += [f"remote:{e.name}?k=4" for e in wb.privacy.endpoints() if e.enabled]
        for spec in specs:
            item = QListWidgetItem(spec, self.contestants)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for r in self.ev.runs.all():
            self.run_picker.addItem(r.describe(), r.id)
        self.run_picker.blockSignals(False)

    # runs --------------------------------------------------------------------------------

    def _build(self) -> None:
        box = self
        self.contestants = QListWidget(box)
        # About six rows: the results table below takes what the window has left.
        self.contestants.setMaximumHeight(self.contestants.fontMetrics().height() * 8)
        self.extra = QLineEdit(box)
        self.extra.setPlaceholderText(
            "more contestants: local:MODEL?ctx=2048&kv=q8_0&k=4; remote:NAME"
        )
        self.max_tokens = QSpinBox(box)
        self.max_tokens.setRange(8, 4096)
        self.max_tokens.setValue(128)
        self.run_button = QPushButton("Run", box)
        self.run_button.clicked.connect(lambda: self.start_run())
        self.stop_button = QPushButton("Stop", box)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(lambda: self.stop_run())
        self.progress = QProgressBar(box)
        self.progress_label = QLabel("", box)
        self.run_picker = QComboBox(box)
        self.run_picker.currentIndexChanged.connect(lambda _i: self.show_results())
        self.resume_button = QPushButton("Resume", box)
        self.resume_button.clicked.connect(lambda: self.resume_run())
        self.review_button = QPushButton("Review blind", box)
        self.review_button.clicked.connect(lambda: self._review())
        self.results = QTableWidget(0, len(RESULT_COLUMNS), box)
        self.results.setHorizontalHeaderLabels([label for _, label in RESULT_COLUMNS])
        self.latency_bound = QSpinBox(box)
        self.latency_bound.setRange(0, 600_000)
        self.latency_bound.setSuffix(" ms (0: no bound)")
        self.routes = QLabel("", box)
        self.routes.setWordWrap(True)
        self.report_button = QPushButton("Export report…", box)
        self.report_button.clicked.connect(lambda: self._choose_report())
        self.apply_button = QPushButton("Apply suggested routes", box)
        self.apply_button.clicked.connect(lambda: self.apply_routes())
        start = row(QLabel("max tokens", box), self.max_tokens, self.run_button, self.stop_button)
        picked = row(self.run_picker, self.resume_button, self.review_button)
        route = row(
            QLabel("latency bound", box),
            self.latency_bound,
            self.apply_button,
            self.report_button,
        )
        layout = QVBoxLayout(box)
        layout.addWidget(self.contestants)
        layout.addWidget(self.extra)
        layout.addLayout(start)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(picked)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.routes)
        layout.addLayout(route)

    def checked_contestants(self) -> list[str]:
        specs = [
            self.contestants.item(i).text()
            for i in range(self.contestants.count())
            if self.contestants.item(i).checkState() == Qt.CheckState.Checked
        ]
        return specs + [s.strip() for s in self.extra.text().split(";") if s.strip()]

    def start_run(self) -> None:
        try:
            run = self.ev.create_run(
                self.set_name(),
                list(self.checked_contestants()),
                params={"max_tokens": self.max_tokens.value()},
            )
        except Exception as exc:  # a CarrelError's message, or one line for a bug
            self.error.emit(getattr(exc, "message", str(exc)))
            return
        self.refresh()
        self.run_picker.setCurrentIndex(self.run_picker.findData(run.id))
        self._execute(run.id)

    def resume_run(self) -> None:
        run_id = self.run_picker.currentData()
        if run_id is not None:
            self._execute(int(run_id))

    def _execute(self, run_id: int) -> None:
        worker = RunWorker(self.ev.job(run_id), self.log_file)
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_run_end)
        worker.failed.connect(self.error)
        worker.finished.connect(lambda: self._running(None))
        self._running(worker)
        self._workers.start(worker)

    def stop_run(self) -> None:
        if self._run is not None:
            self._run.cancel()

    def _running(self, worker: RunWorker | None) -> None:
        self._run = worker
        self.run_button.setEnabled(worker is None)
        self.resume_button.setEnabled(worker is None)
        self.stop_button.setEnabled(worker is not None)

    def _on_progress(self, p: RunProgress) -> None:
        self.progress.setMaximum(p.total)
        self.progress.setValue(p.done)
        self.progress_label.setText(p.describe())
        self.run_progress.emit(p)

    def _on_run_end(self, status: str) -> None:
        self.refresh()
        self.show_results()
        self.run_finished.emit(status)

    def show_results(self) -> None:
        run_id = self.run_picker.currentData()
        if run_id is None:
            self.results.setRowCount(0)
            return
        bound = self.latency_bound.value() or None
        self._report = self.ev.report(int(run_id), max_latency_ms=bound)
        rows = self._report.overall()
        self.results.setRowCount(len(rows))
        for r, s in enumerate(rows):
            values = s.row()
            for c, (key, _) in enumerate(RESULT_COLUMNS):
                v = values.get(key)
                text = "—" if v is None else _figure(v)
                cell = QTableWidgetItem(text)
                if key == "contestant":  # read as words; the spec stays in the tooltip
                    cell = QTableWidgetItem(Contestant.parse(s.contestant).describe())
                    cell.setToolTip(s.contestant)
                self.results.setItem(r, c, cell)
        self.results.resizeColumnsToContents()
        self.routes.setText("\n".join("Route " + rule.describe() for rule in self._report.rules))

    def write_report(self, path: Path) -> None:
        """Write the selected run's report as `path` (HTML) and beside it as CSV."""
        self.show_results()
        if self._report is None:
            return
        path.write_text(self._report.html(), encoding="utf-8")
        path.with_suffix(".csv").write_text(self._report.csv(), encoding="utf-8")
        self.report_written.emit(str(path))

    def _choose_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the report", "report.html", "HTML (*.html)"
        )
        if path:
            self.write_report(Path(path))

    def apply_routes(self) -> None:
        self.show_results()
        if self._report is None:
            return
        try:
            self.ev.apply_routes(self._report.rules)
        except Exception as exc:
            self.error.emit(getattr(exc, "message", str(exc)))
            return
        self.routes_applied.emit()

    def _review(self) -> None:
        run_id = self.run_picker.currentData()
        if run_id is not None:
            self.review_requested.emit(int(run_id))
