"""`CollectionPicker`: which document collections a conversation answers from."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.rag.service import Documents


class CollectionPicker(QWidget):
    """A checkable list of the collections on this machine, for the chat's side panel.

    Signals: `changed(list)` with the checked names (sorted) whenever the person checks
    or unchecks one, or when `set_selected`/`refresh` had to drop names of collections that
    no longer exist (so the conversation stops asking for them). `set_selected` itself is
    silent otherwise, so loading a conversation does not count as a change.
    """

    changed = Signal(list)

    def __init__(self, documents: Documents, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.documents = documents
        self.list = QListWidget(self)
        self.list.setObjectName("collectionPicker")
        self.list.setMaximumHeight(120)
        self.list.setToolTip("Answers in this conversation cite the checked collections.")
        self.empty = QLabel("No collections yet: add documents on the Documents page.", self)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Documents", self))
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.list.itemChanged.connect(self._on_item_changed)
        self.refresh()

    def names(self) -> list[str]:
        """Every collection listed."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected(self) -> list[str]:
        """The checked collections, sorted."""
        return sorted(
            self.list.item(i).text()
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        )

    def refresh(self) -> None:
        """Re-read the collections (after one was created or removed), keeping the ticks."""
        self._fill([c.name for c in self.documents.collections()], self.selected())

    def set_selected(self, names: list[str]) -> None:
        """Tick exactly `names` (a conversation's collections) without emitting `changed`,
        unless some of them no longer exist."""
        self._fill(self.names(), names)

    def _fill(self, available: list[str], wanted: list[str]) -> None:
        kept = sorted(set(wanted) & set(available))
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for name in sorted(available):
                item = QListWidgetItem(name, self.list)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = Qt.CheckState.Checked if name in kept else Qt.CheckState.Unchecked
                item.setCheckState(checked)
        finally:
            self.list.blockSignals(False)
        self.list.setVisible(bool(available))
        self.empty.setVisible(not available)
        if len(kept) != len(set(wanted)):
            self.changed.emit(kept)

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        self.changed.emit(self.selected())
