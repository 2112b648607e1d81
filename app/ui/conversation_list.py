"""`ConversationList`: the left panel: search by title, the conversations, New/Rename/Delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.store import Conversation

ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(QWidget):
    """Lists conversations, most recent first; knows nothing of the store.

    Signals: `selected(int)` with the chosen conversation's id (-1 for none),
    `search_changed(str)`, `new_requested()`, `renamed(int, str)` after an inline rename,
    `delete_requested(int)`.
    """

    selected = Signal(int)
    search_changed = Signal(str)
    new_requested = Signal()
    renamed = Signal(int, str)
    delete_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search titles")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        self.list = QListWidget(self)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemChanged.connect(self._on_item_changed)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New", self)
        self.rename_button = QPushButton("Rename", self)
        self.delete_button = QPushButton("Delete", self)
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button.clicked.connect(self.start_rename)
        self.delete_button.clicked.connect(self._on_delete)
        for b in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_conversations(self, conversations: list[Conversation], current: int | None) -> None:
        """Fill the list and select `current` if it is there; emits nothing."""
        self._filling = True
        try:
            self.list.clear()
            for c in conversations:
                item = QListWidgetItem(c.title)
                item.setData(ID_ROLE, c.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                if c.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._filling = False
        self._update_buttons()

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(ID_ROLE)) if item is not None else None

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def select(self, conversation_id: int) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == conversation_id:
                self.list.setCurrentItem(item)
                return

    def start_rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _on_current_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        self._update_buttons()
        if not self._filling:
            self.selected.emit(int(current.data(ID_ROLE)) if current is not None else -1)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            cid, title = int(item.data(ID_ROLE)), item.text()
            if self.list.state() == QListWidget.State.EditingState:
                # Told once the editor has closed: the window refills the list on a
                # rename, which must not happen while the list commits the editor's text.
                QTimer.singleShot(0, self, lambda: self.renamed.emit(cid, title))
            else:
                self.renamed.emit(cid, title)

    def _on_delete(self) -> None:
        cid = self.current_id()
        if cid is not None:
            self.delete_requested.emit(cid)

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)
