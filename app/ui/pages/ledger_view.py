"""`LedgerTab`: every request that was to leave the device, newest first: what became of
it (sent, refused, failed before or after sending, and why), the conversation it came from
by title, what a hub request carried; exports as CSV and JSON. It shows sizes, hashes and
consent, never content or keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.privacy.ledger import LedgerEntry, summary
from app.ui.files import save_atomically
from app.workbench import Workbench

# What a person reads first comes first: when, what became of it and why, which face asked
# (window, command line, local server), from which conversation, to whom.
COLUMNS = [
    "When",
    "Outcome",
    "Origin",
    "Conversation",
    "Host",
    "Kind",
    "Model or repository",
    "Carried",
    "Bytes",
    "Redacted",
    "Consent",
    "Endpoint",
    "SHA-256",
]
EXPORTS = {"csv": "CSV", "json": "JSON"}
# A long reason or title is cut to this width; the whole text is its tooltip.
MAX_COLUMN_PX = 320


def cells(e: LedgerEntry) -> list[str]:
    when = dt.datetime.fromtimestamp(e.at).strftime("%Y-%m-%d %H:%M:%S")
    return [
        when,
        e.describe_outcome(),
        e.describe_origin(),
        e.describe_conversation(),
        e.host,
        e.kind,
        e.model,
        e.carried,
        f"{e.bytes:,}",
        str(e.redactions),
        e.consent,
        e.endpoint,
        e.sha256[:16] + ("…" if e.sha256 else ""),
    ]


class LedgerTab(QWidget):
    """The egress ledger as a table, refreshed when shown or asked.

    Signals: `exported(str)` with the path written; `failed(str)`.
    """

    exported = Signal(str)
    failed = Signal(str)

    def __init__(self, wb: Workbench, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        self.summary = QLabel("", self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setWordWrap(False)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.csv_button = QPushButton("Export CSV…", self)
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        self.json_button = QPushButton("Export JSON…", self)
        self.json_button.clicked.connect(lambda: self.export("json"))
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.csv_button)
        row.addWidget(self.json_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.refresh()

    def refresh(self) -> None:
        entries = list(reversed(self.wb.privacy.ledger.entries()))
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            for col, text in enumerate(cells(e)):
                item = QTableWidgetItem(text)
                item.setToolTip(e.sha256 if col == len(COLUMNS) - 1 else text)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        for col in range(len(COLUMNS)):
            if self.table.columnWidth(col) > MAX_COLUMN_PX:
                self.table.setColumnWidth(col, MAX_COLUMN_PX)
        self.summary.setText(summary(entries))
        has = bool(entries)
        self.csv_button.setEnabled(has)
        self.json_button.setEnabled(has)

    def rows(self) -> list[list[str]]:
        """The table's text, row by row (newest first)."""
        out = []
        for r in range(self.table.rowCount()):
            items = [self.table.item(r, c) for c in range(self.table.columnCount())]
            out.append([i.text() if i is not None else "" for i in items])
        return out

    def export(self, ext: str, path: str | Path | None = None) -> bool:
        """Write the whole ledger as CSV or JSON (asks where unless `path` is given)."""
        kind = EXPORTS[ext]
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export the ledger as {kind}", f"carrel-ledger.{ext}", f"{kind} (*.{ext})"
            )
            if not path:
                return False
        ledger = self.wb.privacy.ledger
        text = ledger.export_csv() if ext == "csv" else ledger.export_json()
        try:
            save_atomically(Path(path), text.encode("utf-8"))
        except CarrelError as exc:
            self.failed.emit(exc.message)
            return False
        self.exported.emit(str(path))
        return True
