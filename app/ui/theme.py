"""Light and dark: the window follows the desktop's colour scheme (Qt 6.5+
`QStyleHints.colorScheme()`, and its change signal) unless the person forces one
(View → Theme; kept with the window's state, `app.ui.window_state`).

Where the desktop gives a palette of the wanted kind, it is kept as it is; otherwise
Carrel switches to the Fusion style with its own dark palette (or Fusion's light one).
The chat's own colours (who speaks, links, code shading, badges) come from `chat_colors`,
read when a message is drawn: a view re-renders itself when the scheme changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

SYSTEM, LIGHT, DARK = "system", "light", "dark"
CHOICES = (SYSTEM, LIGHT, DARK)


@dataclass(frozen=True)
class ChatColors:
    """The colours the chat draws with, for one scheme."""

    user: str
    assistant: str
    meta: str
    stopped: str
    code_background: str
    link: str
    unknown_marker: str
    note_background: str
    step: str
    # Badge under each reply: (text, background) by where it was written.
    badges: tuple[tuple[str, str, str], ...]

    def badge(self, name: str) -> tuple[str, str]:
        for key, fg, bg in self.badges:
            if key == name:
                return fg, bg
        return self.badges[-1][1], self.badges[-1][2]


LIGHT_COLORS = ChatColors(
    user="#1f5fa8",
    assistant="#2d6a3e",
    meta="#6b6b6b",
    stopped="#b3261e",
    code_background="#f3f3f3",
    link="#1f5fa8",
    unknown_marker="#b3261e",
    note_background="#fff4d6",
    step="#6b6b6b",
    badges=(
        ("on-device", "#1d6b35", "#e3f4e8"),
        ("self-hosted", "#1f4f8a", "#e4eefa"),
        ("third-party", "#8a4b00", "#fdf0dc"),
    ),
)
DARK_COLORS = ChatColors(
    user="#7fb2ee",
    assistant="#7fcf95",
    meta="#a0a0a0",
    stopped="#ff8a80",
    code_background="#2b2d31",
    link="#8ab4f8",
    unknown_marker="#ff8a80",
    note_background="#3d3522",
    step="#a0a0a0",
    badges=(
        ("on-device", "#9ee0b0", "#1f3a27"),
        ("self-hosted", "#a8c8f5", "#1d2e47"),
        ("third-party", "#f5c98a", "#43301a"),
    ),
)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def chat_colors(widget: QWidget) -> ChatColors:
    """The chat colours for the scheme `widget` is drawn in: the application's (a
    widget's own palette follows it only once the change event has been delivered)."""
    palette = widget.palette() if widget.testAttribute(_OWN_PALETTE) else QApplication.palette()
    return DARK_COLORS if is_dark(palette) else LIGHT_COLORS


_OWN_PALETTE = Qt.WidgetAttribute.WA_SetPalette


def dark_palette() -> QPalette:
    """Carrel's dark palette for the Fusion style."""
    p = QPalette()
    roles = QPalette.ColorRole
    window, base, text = QColor("#202124"), QColor("#18191b"), QColor("#e6e6e6")
    for role, color in (
        (roles.Window, window),
        (roles.WindowText, text),
        (roles.Base, base),
        (roles.AlternateBase, QColor("#26272a")),
        (roles.ToolTipBase, QColor("#303134")),
        (roles.ToolTipText, text),
        (roles.PlaceholderText, QColor("#8a8a8a")),
        (roles.Text, text),
        (roles.Button, QColor("#2b2c2f")),
        (roles.ButtonText, text),
        (roles.BrightText, QColor("#ff6b6b")),
        (roles.Light, QColor("#3a3b3e")),
        (roles.Midlight, QColor("#323336")),
        (roles.Mid, QColor("#28292c")),
        (roles.Dark, QColor("#141516")),
        (roles.Shadow, QColor("#000000")),
        (roles.Highlight, QColor("#3d6fb4")),
        (roles.HighlightedText, QColor("#ffffff")),
        (roles.Link, QColor("#8ab4f8")),
        (roles.LinkVisited, QColor("#c58af9")),
    ):
        p.setColor(role, color)
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor("#7a7a7a"))
    return p


class Theme(QObject):
    """Applies the chosen scheme to the application and follows the desktop's.

    Signals: `changed(bool)` with whether the window is now dark, after each change.
    """

    changed = Signal(bool)

    def __init__(self, app: QApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self.choice = SYSTEM
        # What the platform gave, to go back to it.
        self._style = app.style().name()
        self._palette = QPalette(app.palette())
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_desktop_changed)

    @property
    def dark(self) -> bool:
        return is_dark(self._app.palette())

    @staticmethod
    def desktop_dark() -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def apply(self, choice: str) -> None:
        """Use `choice` (system, light or dark); unknown values read as system."""
        self.choice = choice if choice in CHOICES else SYSTEM
        want_dark = self.choice == DARK or (self.choice == SYSTEM and self.desktop_dark())
        if is_dark(self._palette) == want_dark:
            self._set(self._style, self._palette)
        elif want_dark:
            self._set("Fusion", dark_palette())
        else:
            fusion = QStyleFactory.create("Fusion")
            self._set("Fusion", fusion.standardPalette())
        self.changed.emit(self.dark)

    def restore(self) -> None:
        """Back to the platform's style and palette (tests share one application)."""
        self._set(self._style, self._palette)
        self.choice = SYSTEM

    def _set(self, style: str, palette: QPalette) -> None:
        if self._app.style().name().lower() != style.lower():
            self._app.setStyle(style)
        self._app.setPalette(palette)

    def _on_desktop_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.choice == SYSTEM:
            self.apply(SYSTEM)
