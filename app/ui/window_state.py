"""What the window remembers across restarts: its geometry, the positions of its
splitters, the page last shown, and the theme chosen (View → Theme).

Kept in `window.ini` in the config folder (under `CARREL_HOME` when it is set, so a test
or a portable install keeps its own) through `QSettings` in INI format: Qt writes and
reads its own geometry blobs, and an unreadable or foreign value is ignored (the window
opens at its default size), never an error.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

from app.ui.theme import SYSTEM

FILE_NAME = "window.ini"


class WindowState:
    """Saves and restores a main window's layout in one INI file. No signals."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / FILE_NAME
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    @property
    def theme(self) -> str:
        value = self._settings.value("theme", SYSTEM)
        return value if isinstance(value, str) else SYSTEM

    @theme.setter
    def theme(self, choice: str) -> None:
        self._settings.setValue("theme", choice)
        self._settings.sync()

    def restore(self, window: QMainWindow, tabs: QTabWidget) -> bool:
        """Put the window back as it was left; False when nothing was kept."""
        geometry = self._settings.value("geometry")
        if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
            return False
        for key, splitter in splitters(tabs):
            state = self._settings.value(f"splitters/{key}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        page = self._settings.value("page")
        if isinstance(page, str) and page.isdigit() and int(page) < tabs.count():
            tabs.setCurrentIndex(int(page))
        elif isinstance(page, int) and 0 <= page < tabs.count():
            tabs.setCurrentIndex(page)
        return True

    def save(self, window: QMainWindow, tabs: QTabWidget) -> None:
        """Keep the window's geometry, its splitters and the page shown."""
        self._settings.setValue("geometry", window.saveGeometry())
        for key, splitter in splitters(tabs):
            self._settings.setValue(f"splitters/{key}", splitter.saveState())
        self._settings.setValue("page", tabs.currentIndex())
        self._settings.sync()


def splitters(tabs: QTabWidget) -> list[tuple[str, QSplitter]]:
    """Each page's splitters with a key that survives a restart: the page's position and
    the splitter's order in it ("0.0" is the Chat page's own)."""
    found: list[tuple[str, QSplitter]] = []
    for index in range(tabs.count()):
        page = tabs.widget(index)
        if page is None:
            continue
        own = [page] if isinstance(page, QSplitter) else []
        inner = page.findChildren(QSplitter)
        for n, splitter in enumerate(own + [s for s in inner if s not in own]):
            found.append((f"{index}.{n}", splitter))
    return found
