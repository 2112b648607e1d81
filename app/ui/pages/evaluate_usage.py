"""`UsagePanel`: the Evaluate page's view of everyday use — every reply's model, route,
latency, tokens and failures, summed per day, week or month (`app.evaluate.usage`), and
the same export as `carrel eval usage --csv`. Kept on this machine; nothing is sent."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.evaluate.usage import PERIODS, UsageLog

COLUMNS = (
    ("period", "Period"),
    ("model", "Model"),
    ("route", "Route"),
    ("replies", "Replies"),
    ("failures", "Failed"),
    ("mean_s", "Mean s"),
    ("mean_ttft_s", "First token s"),
    ("tokens_in", "Tokens in"),
    ("tokens_out", "Tokens out"),
)


class UsagePanel(QWidget):
    """The usage table with its period and a CSV export.

    Signals: `exported(str)` with the path written; `error(str)` with a message for a
    person.
    """

    exported = Signal(str)
    error = Signal(str)

    def __init__(self, usage: UsageLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.usage = usage
        self.period = QComboBox(self)
        self.period.addItems(list(PERIODS))
        self.period.currentTextChanged.connect(lambda _p: self.refresh())
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.clicked.connect(self._choose_export)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # one Tab stop, as every table
        note = QLabel(
            "Every reply of this machine's chats, kept in Carrel's database here and never "
            "sent anywhere.",
            self,
        )
        note.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Per", self))
        bar.addWidget(self.period)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Reread the summary for the chosen period, newest first."""
        rows = list(reversed(self.usage.summary(self.period.currentText())))
        self.table.setRowCount(len(rows))
        for r, u in enumerate(rows):
            values = {
                "period": u.period,
                "model": u.model,
                "route": u.route,
                "replies": str(u.replies),
                "failures": str(u.failures),
                "mean_s": f"{u.mean_ms / 1000:.1f}",
                "mean_ttft_s": f"{u.mean_ttft_ms / 1000:.2f}",
                "tokens_in": str(u.tokens_in),
                "tokens_out": str(u.tokens_out),
            }
            for c, (key, _) in enumerate(COLUMNS):
                self.table.setItem(r, c, QTableWidgetItem(values[key]))
        self.table.resizeColumnsToContents()

    def export(self, path: Path) -> None:
        """Every recorded reply as CSV at `path` (as `carrel eval usage --csv`)."""
        try:
            path.write_text(self.usage.export_csv(), encoding="utf-8")
        except OSError as exc:
            self.error.emit(f"Could not write {path}: {exc.strerror or exc}")
            return
        self.exported.emit(str(path))

    def _choose_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export usage", "usage.csv", "CSV (*.csv)")
        if name:
            self.export(Path(name))
