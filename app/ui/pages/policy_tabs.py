"""The policy's lists in Settings: what is redacted before a request leaves (kinds, the
person's own terms and patterns), and the collections whose passages never leave."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.privacy.policy import OnDeviceOnlyAction
from app.ui.pages.recognizer_box import RecognizerBox
from app.ui.workers import WorkerSet
from app.workbench import Workbench

KIND_LABELS = {
    "EMAIL": "E-mail addresses",
    "PHONE": "Phone numbers",
    "IBAN": "IBANs",
    "CARD": "Card numbers (Luhn-checked)",
    "IP": "IP addresses",
}


class ListEditor(QGroupBox):
    """A list of strings with a field to add one and a button to remove the selected one.

    `check(text)` returns an error message for a value that cannot be used, or None.
    Signals: `changed(list)` with the whole list after an edit; `failed(str)`.
    """

    changed = Signal(list)
    failed = Signal(str)

    def __init__(
        self,
        title: str,
        placeholder: str,
        check: Callable[[str], str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self._check = check
        self.list = QListWidget(self)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText(placeholder)
        self.field.returnPressed.connect(self.add)
        self.add_button = QPushButton("Add", self)
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)

    def set_items(self, items: list[str]) -> None:
        self.list.clear()
        self.list.addItems(items)

    def items(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def add(self) -> None:
        text = self.field.text().strip()
        if not text or text in self.items():
            return
        problem = self._check(text) if self._check is not None else None
        if problem:
            self.failed.emit(problem)
            return
        self.list.addItem(text)
        self.field.clear()
        self.changed.emit(self.items())

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self.changed.emit(self.items())


class RedactionTab(QWidget):
    """What is replaced by placeholders before a request leaves; saved as it is edited.

    Signals: `failed(str)` with a message for a person.
    """

    failed = Signal(str)

    def __init__(self, wb: Workbench, workers: WorkerSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        policy = wb.privacy.policy
        intro = QLabel(
            "Before a request leaves, these are replaced by placeholders such as [EMAIL_1]; "
            "the answer gets the originals back on this device.",
            self,
        )
        intro.setWordWrap(True)
        kinds_box = QGroupBox("Found automatically", self)
        kinds_layout = QVBoxLayout(kinds_box)
        self.kinds: dict[str, QCheckBox] = {}
        for kind, label in KIND_LABELS.items():
            box = QCheckBox(label, kinds_box)
            box.setChecked(kind in policy.redact_kinds)
            box.toggled.connect(self._save_kinds)
            kinds_layout.addWidget(box)
            self.kinds[kind] = box
        self.terms = ListEditor("Your own terms (names, project code words)", "a term", None, self)
        self.terms.set_items(policy.redact_terms)
        self.terms.changed.connect(self._save_terms)
        self.patterns = ListEditor(
            "Your own patterns (regular expressions)", r"e.g. ACME-\d{4}", self._check, self
        )
        self.patterns.set_items(policy.redact_patterns)
        self.patterns.changed.connect(self._save_patterns)
        self.recognizers = RecognizerBox(wb, workers, self)
        for editor in (self.terms, self.patterns, self.recognizers):
            editor.failed.connect(self.failed.emit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(kinds_box)
        layout.addWidget(self.recognizers)
        layout.addWidget(self.terms, 1)
        layout.addWidget(self.patterns, 1)

    def _check(self, pattern: str) -> str | None:
        """The core's verdict on a new pattern: None, or why it cannot be used."""
        try:
            self.wb.privacy.check_redaction(patterns=[pattern])
        except CarrelError as exc:
            return exc.message
        return None

    def _save(self, **change: list[str]) -> None:
        try:
            self.wb.privacy.set_redaction(**change)
        except CarrelError as exc:
            self.failed.emit(exc.message)

    def _save_kinds(self) -> None:
        self._save(kinds=[k for k, b in self.kinds.items() if b.isChecked()])

    def _save_terms(self, items: list[str]) -> None:
        self._save(terms=items)

    def _save_patterns(self, items: list[str]) -> None:
        self._save(patterns=items)


class CollectionsTab(QWidget):
    """The document collections whose passages never go to a remote endpoint, and what
    happens when a request would carry them. Saved as it is edited. No signals."""

    def __init__(self, wb: Workbench, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wb = wb
        policy = wb.privacy.policy
        intro = QLabel(
            "Passages from these collections are never sent to a remote endpoint, whatever "
            "the conversation's route.",
            self,
        )
        intro.setWordWrap(True)
        self.collections = ListEditor("On-device-only collections", "collection name", None, self)
        self.collections.set_items(policy.on_device_only)
        self.collections.changed.connect(self._save)
        self.action = QComboBox(self)
        self.action.addItem("Refuse the request and say why", str(OnDeviceOnlyAction.REFUSE))
        self.action.addItem("Answer with the local model instead", str(OnDeviceOnlyAction.LOCAL))
        self.action.setCurrentIndex(max(self.action.findData(str(policy.on_device_only_action)), 0))
        self.action.activated.connect(self._save_action)
        row = QHBoxLayout()
        row.addWidget(QLabel("When a request would carry them:", self))
        row.addWidget(self.action, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.collections, 1)
        layout.addLayout(row)

    def _save(self, items: list[str]) -> None:
        self.wb.privacy.set_on_device_only(collections=items)

    def _save_action(self, _index: int) -> None:
        self.wb.privacy.set_on_device_only(action=str(self.action.currentData()))
