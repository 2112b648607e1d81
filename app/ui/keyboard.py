"""Driving the window from the keyboard: the focus ring drawn around whatever has the
focus, tables that take one Tab stop, and the window's find and message-box shortcuts.

- Ctrl+L puts the cursor in the message box (from any page).
- Ctrl+F goes to the current page's search: conversation titles on Chat, the
  collection's search on Documents, the hub search on Models (its tab, when offline).
- Tab and Shift+Tab move between controls everywhere, the message box included
  (Ctrl+Tab types a tab there); a table or list is one stop, its rows are walked with the
  arrow keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QWidget
from shiboken6 import isValid

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

RING_COLOR = "#2f6fd6"
RING_WIDTH = 2
FOCUS_MESSAGE_BOX = "Ctrl+L"
FIND = QKeySequence.StandardKey.Find


def one_tab_stop(root: QWidget) -> None:
    """Make every table and list under `root` a single Tab stop (arrows move inside)."""
    for view in root.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)


class FocusRing(QWidget):
    """A ring drawn over the window around the widget that has the keyboard focus, so
    the focus is visible on every control whatever the style draws. It never takes the
    focus or a click. No signals."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("focusRing")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._window = window
        self._target: QWidget | None = None
        self.hide()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_focus_changed)
        window.installEventFilter(self)

    @property
    def target(self) -> QWidget | None:
        """The widget the ring is drawn around (None while hidden)."""
        return self._target if self.isVisible() else None

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self._target is not None and isValid(self._target):
            self._target.removeEventFilter(self)
        self._target = new if new is not None and new.window() is self._window else None
        if self._target is not None:
            self._target.installEventFilter(self)
        self.follow()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (
            QEvent.Type.Move,
            QEvent.Type.Resize,
            QEvent.Type.Show,
            QEvent.Type.Hide,
        ):
            self.follow()
        return False

    def follow(self) -> None:
        """Put the ring around the focused widget (or hide it)."""
        target = self._target
        if target is None or not isValid(target) or not target.isVisible():
            self.hide()
            return
        top_left = target.mapTo(self._window, target.rect().topLeft())
        pad = RING_WIDTH + 1
        area = QRect(top_left, target.size()).adjusted(-pad, -pad, pad, pad)
        self.setGeometry(area.intersected(self._window.rect()))
        self.show()
        self.raise_()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(RING_COLOR))
        pen.setWidth(RING_WIDTH)
        painter.setPen(pen)
        half = RING_WIDTH // 2 + 1
        painter.drawRoundedRect(self.rect().adjusted(half, half, -half, -half), 4, 4)


class WindowKeys(QObject):
    """The main window's keyboard furniture: the focus ring, one Tab stop per table,
    Ctrl+L and Ctrl+F. No signals."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window
        self.ring = FocusRing(window)
        one_tab_stop(window)
        self.focus_shortcut = QShortcut(QKeySequence(FOCUS_MESSAGE_BOX), window)
        self.focus_shortcut.activated.connect(self.focus_message_box)
        self.find_shortcut = QShortcut(QKeySequence(FIND), window)
        self.find_shortcut.activated.connect(self.find)

    def focus_message_box(self) -> None:
        self._w.tabs.setCurrentIndex(0)
        self._w.prompt.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def find(self) -> None:
        """Go to the search field of the page on show."""
        page = self._w.tabs.currentWidget()
        box: QLineEdit
        if page is self._w.documents_page:
            box = self._w.documents_page.search_box
        elif page is self._w.models_page:
            models = self._w.models_page
            box = models.search_box
            for i in range(models.tabs.count()):
                tab = models.tabs.widget(i)
                if tab is not None and tab.isAncestorOf(box):
                    models.tabs.setCurrentIndex(i)
            if not box.isEnabled():  # offline: the tab says why; its bar keeps the focus
                models.tabs.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)
                return
        else:
            box = self._w.conversations.search
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()
