"""The Models page's tables: installed models, the catalog, hub repositories, a
repository's quant files with fit badges, and the download queue with progress bars.

Views only: they show rows they are given and never call the library themselves.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.library.catalog import CatalogEntry
from app.library.download import CANCELLED, DONE, FAILED, PAUSED, DownloadJob
from app.library.hub import RepoSummary
from app.library.listings import InstalledModel, QuantChoice
from app.library.verdict import FitEstimate
from app.units import human_size


def _item(text: str, tip: str = "", data: Any = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    return item


class Table(QTableWidget):
    """A read-only, row-selecting table with fixed headers. No signals of its own."""

    def __init__(self, headers: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def fill(self, rows: list[list[QTableWidgetItem]]) -> None:
        self.setRowCount(0)
        self.setRowCount(len(rows))
        for r, items in enumerate(rows):
            for c, item in enumerate(items):
                self.setItem(r, c, item)

    def column_texts(self, column: int) -> list[str]:
        items = (self.item(r, column) for r in range(self.rowCount()))
        return [item.text() if item is not None else "" for item in items]

    def selected_data(self) -> Any:
        row = self.currentRow()
        item = self.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


class InstalledTable(Table):
    """Installed models: name, architecture, quant, size, licence, context, fit badge."""

    HEADERS = ("Name", "Architecture", "Quant", "Size", "Licence", "Context", "Fit")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.HEADERS, parent)

    def show_rows(self, rows: list[InstalledModel]) -> None:
        self.fill(
            [
                [
                    _item(r.info.name, r.info.problem or str(r.info.path), r.info.name),
                    _item(r.info.architecture),
                    _item(r.info.quant),
                    _item(human_size(r.info.size)),
                    _item(r.license or "unknown"),
                    _item(f"{r.info.context_length:,}" if r.info.context_length else "?"),
                    _item(r.fit_badge(), r.fit.describe() if r.fit else r.info.problem),
                ]
                for r in rows
            ]
        )


class CatalogTable(Table):
    """The curated catalog: name, use, size and fit (once looked up on the hub), licence,
    category, repository and a Download button; the entry is kept in column 0.

    Signals: `download_clicked(int)` with the row whose Download was pressed or which was
    double-clicked."""

    HEADERS = ("Name", "Use", "Size", "Fit", "Licence", "Category", "", "Repository")
    download_clicked = Signal(int)
    NOT_ASKED = "Look up asks Hugging Face for the file's size and reads its header for the fit."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.HEADERS, parent)
        self.cellDoubleClicked.connect(lambda row, _column: self.download_clicked.emit(row))

    def show_entries(self, entries: list[CatalogEntry]) -> None:
        self.fill(
            [
                [
                    _item(e.name, e.note, e),
                    _item(", ".join(e.use)),
                    _item("—", self.NOT_ASKED),
                    _item("—", self.NOT_ASKED),
                    _item(e.license),
                    _item(e.category),
                    _item(""),
                    _item(f"{e.repo} · {e.quant}" if e.repo else "(no weights: a remote API)"),
                ]
                for e in entries
            ]
        )
        for row, e in enumerate(entries):
            if not e.repo:
                continue  # an api-only entry has nothing to download
            button = QPushButton("Download", self)
            button.setToolTip("Download this model from Hugging Face (goes online)")
            button.clicked.connect(lambda _=False, row=row: self.download_clicked.emit(row))
            self.setCellWidget(row, 6, button)

    def entry(self, row: int) -> CatalogEntry | None:
        item = self.item(row, 0) if row >= 0 else None
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, CatalogEntry) else None

    def show_choice(self, row: int, size: int, fit: FitEstimate | None) -> None:
        """The size and fit verdict of row `row`'s file, as the hub listed it."""
        self.setItem(row, 2, _item(human_size(size)))
        badge = fit.badge() if fit is not None else "Fit unknown"
        self.setItem(row, 3, _item(badge, fit.describe() if fit is not None else ""))

    def looked_up(self, row: int) -> bool:
        item = self.item(row, 2)
        return item is not None and item.text() != "—"

    def show_problem(self, row: int, message: str) -> None:
        self.setItem(row, 3, _item("not looked up", message))

    def download_button(self, row: int) -> QPushButton:
        widget = self.cellWidget(row, 6)
        assert isinstance(widget, QPushButton)
        return widget


class RepoTable(Table):
    """Search results: repository, downloads, likes, last change, gated state."""

    HEADERS = ("Repository", "Downloads", "Likes", "Updated", "Access")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.HEADERS, parent)

    def show_repos(self, repos: list[RepoSummary]) -> None:
        self.fill(
            [
                [
                    _item(r.id, data=r.id),
                    _item(f"{r.downloads:,}"),
                    _item(f"{r.likes:,}"),
                    _item(r.last_modified[:10]),
                    _item("gated" if r.gated else "open"),
                ]
                for r in repos
            ]
        )


class QuantTable(Table):
    """A repository's GGUF models by quant, each with size, fit badge and Download."""

    HEADERS = ("Quant", "File", "Size", "Fit", "")
    download_clicked = Signal(str)  # the file name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.HEADERS, parent)

    def show_choices(self, choices: list[QuantChoice]) -> None:
        self.fill(
            [
                [
                    _item(c.file.quant, data=c.file.name),
                    _item(c.file.name, f"SHA-256 {c.file.sha256}"),
                    _item(human_size(c.file.size)),
                    _item(c.fit_badge(), c.fit.describe() if c.fit else ""),
                ]
                for c in choices
            ]
        )
        for row, c in enumerate(choices):
            button = QPushButton("Download", self)
            button.clicked.connect(
                lambda _=False, name=c.file.name: self.download_clicked.emit(name)
            )
            self.setCellWidget(row, 4, button)

    def download_button(self, row: int) -> QPushButton:
        widget = self.cellWidget(row, 4)
        assert isinstance(widget, QPushButton)
        return widget


class DownloadRow(QWidget):
    """One job in the queue: name, progress bar, bytes/rate/ETA, pause/resume/cancel.

    Signals: `pause_clicked`, `resume_clicked`, `cancel_clicked` (each with the job)."""

    pause_clicked = Signal(object)
    resume_clicked = Signal(object)
    cancel_clicked = Signal(object)

    def __init__(self, job: DownloadJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.name = QLabel(job.name, self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.text = QLabel("queued", self)
        self.pause_button = QPushButton("Pause", self)
        self.resume_button = QPushButton("Resume", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.pause_button.clicked.connect(lambda: self.pause_clicked.emit(self.job))
        self.resume_button.clicked.connect(lambda: self.resume_clicked.emit(self.job))
        self.cancel_button.clicked.connect(lambda: self.cancel_clicked.emit(self.job))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        widgets: list[QWidget] = [self.name, self.bar, self.text]
        for w in widgets:
            layout.addWidget(w)
        layout.addStretch(1)
        for b in (self.pause_button, self.resume_button, self.cancel_button):
            layout.addWidget(b)
        self.update_from(job)

    def update_from(self, job: DownloadJob) -> None:
        p = job.progress()
        self.bar.setValue(int(1000 * p.fraction))
        text = p.describe()
        if job.state == FAILED and job.error is not None:
            text = f"failed: {job.error}"
        self.text.setText(text)
        over = job.state in (DONE, FAILED, CANCELLED)
        self.pause_button.setEnabled(not over and job.state != PAUSED)
        self.resume_button.setEnabled(job.state in (PAUSED, FAILED))
        self.cancel_button.setEnabled(not over or job.state == FAILED)


class DownloadList(QWidget):
    """The download queue: one `DownloadRow` per job, newest last. No signals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[int, DownloadRow] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel("No downloads.", self)
        self._layout.addWidget(self.empty)

    def row(self, job: DownloadJob) -> DownloadRow | None:
        return self.rows.get(id(job))

    def add(self, job: DownloadJob) -> DownloadRow:
        row = DownloadRow(job, self)
        self.rows[id(job)] = row
        self.empty.hide()
        self._layout.addWidget(row)
        return row
