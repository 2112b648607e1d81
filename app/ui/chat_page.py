"""The two panels of the main window around the conversation list: `ChatPanel` (the
conversation, the error bar, the message box and its buttons) and `SidePanel` (the model,
where replies come from, and the conversation's parameters)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui.chat_view import ChatView
from app.ui.model_panel import ModelPanel
from app.ui.route_box import RouteBox
from app.ui.widgets import ErrorBar, ParamsPanel, PromptEdit

ASK_REMOTE_TIP = "Send this message to the remote model (you will see what leaves first)"


class ChatPanel(QWidget):
    """The conversation, the error bar, and the message box with Send, Ask remote and Stop.

    It only lays the widgets out; the window connects them. No signals of its own.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error_bar = ErrorBar(self)
        self.chat = ChatView(self)
        # Says that the message box holds an earlier message being edited (hidden otherwise).
        self.edit_note = QLabel(self)
        self.edit_note.setWordWrap(True)
        self.edit_note.setForegroundRole(QPalette.ColorRole.Link)  # blue, either theme
        self.edit_note.setContentsMargins(4, 2, 4, 2)
        self.edit_note.hide()
        self.prompt = PromptEdit(self)
        self.prompt.setPlaceholderText(
            "Message  (Enter sends, Shift+Enter for a new line, Tab leaves, Ctrl+Tab is a tab)"
        )
        self.prompt.setFixedHeight(84)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.ask_remote_button = QPushButton("Ask remote", self)
        self.ask_remote_button.setToolTip(ASK_REMOTE_TIP)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the reply (Esc); what was written is kept")
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.ask_remote_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.prompt, 1)
        input_row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.chat, 1)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.edit_note)
        layout.addLayout(input_row)


class SidePanel(QScrollArea):
    """The model picker, the conversation's route, and its sampling parameters, in a
    column that scrolls when the window is too short for it (1000×650 and below).

    It only lays the widgets out (`content` is the column's layout); the window connects
    them. No signals of its own.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget(self)
        layout = self.content = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 4, 0)
        self.model_panel = ModelPanel(inner)
        self.route = RouteBox(inner)
        params_box = QGroupBox("Parameters (this conversation)", inner)
        params_layout = QVBoxLayout(params_box)
        self.params = ParamsPanel(params_box)
        params_layout.addWidget(self.params)
        layout.addWidget(self.model_panel)
        layout.addWidget(self.route)
        layout.addWidget(params_box, 1)
        self.setWidget(inner)
        self._inner = inner
        self._fit_width()
        inner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # "Advanced" or "Load options" opened
            self._fit_width()
        return super().eventFilter(watched, event)

    def _fit_width(self) -> None:
        """As wide as the column's widest row (it scrolls up and down, never sideways)."""
        width = self._inner.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        if width != self.minimumWidth():
            self.setMinimumWidth(width)
