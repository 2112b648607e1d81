"""`EndpointsTab`: the remote endpoints (add, remove, switch on and off — off by default,
and switching one on is an explicit act) and, below them, their API keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.privacy.policy import EndpointKind
from app.ui.pages.keys_box import KeysBox
from app.ui.widgets import ask
from app.ui.workers import WorkerSet
from app.workbench import Workbench

COLUMNS = ["On", "Name", "Kind", "Model", "Base URL", "Key"]
ON, NAME, KIND, MODEL, URL, KEY = range(len(COLUMNS))
KINDS = [
    (EndpointKind.THIRD_PARTY, "Third-party (a vendor's API)"),
    (EndpointKind.SELF_HOSTED, "Self-hosted (your team's server)"),
]


class EndpointsTab(QWidget):
    """Lists the OpenAI-compatible endpoints and edits them through `wb.privacy`.

    Signals: `endpoints_changed()` after one is added, removed, switched on or off;
    `failed(str)` with a message for a person. The key box's own signals are on `keys`.
    """

    endpoints_changed = Signal()
    failed = Signal(str)

    def __init__(self, wb: Workbench, workers: WorkerSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        self._filling = False
        self._hints: dict[str, str] = {}
        intro = QLabel(
            "Everything runs on this device unless you switch an endpoint on here. Even "
            "then, you see and approve each request before it leaves.",
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(URL, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)

        add_box = QGroupBox("Add an endpoint (it starts switched off)", self)
        form = QFormLayout(add_box)
        self.name = QLineEdit(add_box)
        self.name.setPlaceholderText("a short name, e.g. team-server")
        self.url = QLineEdit(add_box)
        self.url.setPlaceholderText("https://api.example.com/v1")
        self.model = QLineEdit(add_box)
        self.model.setPlaceholderText("the model name the server expects")
        self.kind = QComboBox(add_box)
        for kind, label in KINDS:
            self.kind.addItem(label, str(kind))
        self.add_button = QPushButton("Add", add_box)
        self.add_button.clicked.connect(self.add)
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.url)
        form.addRow("Model", self.model)
        form.addRow("Kind", self.kind)
        form.addRow("", self.add_button)

        self.keys = KeysBox(wb, workers, self)
        self.keys.hints.connect(self._on_hints)
        self.keys.key_changed.connect(self._on_key_changed)
        self.keys.failed.connect(self.failed.emit)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(add_box)
        layout.addWidget(self.keys)
        self.reload()

    @contextmanager
    def _shown_errors(self) -> Iterator[None]:
        try:
            yield
        except CarrelError as exc:
            self.failed.emit(exc.message)

    # the list ----------------------------------------------------------------------------

    def reload(self) -> None:
        selected = self.selected()
        self._filling = True
        try:
            endpoints = self.wb.privacy.endpoints()
            self.table.setRowCount(len(endpoints))
            for row, e in enumerate(endpoints):
                on = QTableWidgetItem("")
                on.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                on.setCheckState(Qt.CheckState.Checked if e.enabled else Qt.CheckState.Unchecked)
                on.setToolTip("Switch on to let this endpoint answer (you approve each request)")
                on.setData(Qt.ItemDataRole.UserRole, e.name)
                self.table.setItem(row, ON, on)
                hint = self._hints.get(e.name, "locked" if not self.keys.is_open else "…")
                for col, text in (
                    (NAME, e.name),
                    (KIND, str(e.kind)),
                    (MODEL, e.model),
                    (URL, e.base_url),
                    (KEY, hint),
                ):
                    item = QTableWidgetItem(text)
                    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
                    self.table.setItem(row, col, item)
                if e.name == selected:
                    self.table.selectRow(row)
        finally:
            self._filling = False
        self._on_selection()

    def names(self) -> list[str]:
        return [e.name for e in self.wb.privacy.endpoints()]

    def row_of(self, name: str) -> int:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, NAME)
            if item is not None and item.text() == name:
                return row
        return -1

    def selected(self) -> str:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return ""
        item = self.table.item(rows[0].row(), NAME)
        return item.text() if item is not None else ""

    def select(self, name: str) -> None:
        row = self.row_of(name)
        if row >= 0:
            self.table.selectRow(row)

    def _on_selection(self) -> None:
        name = self.selected()
        self.remove_button.setEnabled(bool(name))
        self.keys.select(name, self._hints.get(name, ""))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != ON:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        self.set_enabled(name, item.checkState() == Qt.CheckState.Checked)

    def _on_hints(self, hints: dict[str, str]) -> None:
        self._hints = dict(hints)
        self.reload()

    def _on_key_changed(self, name: str, hint: str) -> None:
        self._hints[name] = hint
        self.reload()

    # changes -----------------------------------------------------------------------------

    def add(self) -> bool:
        kind = EndpointKind(str(self.kind.currentData()))
        name = self.name.text().strip()
        try:
            self.wb.privacy.add_endpoint(name, self.url.text().strip(), self.model.text(), kind)
        except CarrelError as exc:
            self.failed.emit(exc.message)
            return False
        for field in (self.name, self.url, self.model):
            field.clear()
        self.reload()
        self.select(name)
        self.keys.refresh_hints()
        self.endpoints_changed.emit()
        return True

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch an endpoint on or off (the person's explicit act)."""
        with self._shown_errors():
            self.wb.privacy.set_enabled(name, enabled)
        self.reload()
        self.endpoints_changed.emit()

    def confirm(self, question: str) -> bool:
        return ask(self, "Carrel", question)

    def remove_selected(self) -> None:
        name = self.selected()
        if not name or not self.confirm(f"Remove the endpoint {name} and delete its key?"):
            return
        with self._shown_errors():
            self.wb.privacy.remove_endpoint(name)
            self._hints.pop(name, None)
            self.keys.forget_key(name)
        self.reload()
        self.endpoints_changed.emit()
