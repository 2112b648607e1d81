"""How big the document viewer opens: a page-shaped window of `PREFERRED` size, shrunk
to fit the screen it opens on (its available area, less the window frame), never taller
than the screen: on a 1400×900 screen the 880×980 it once had would have run off it."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED = QSize(880, 980)
# Room for the title bar and borders the window manager adds, and a gap to the edges.
FRAME = QSize(16, 48)
MINIMUM = QSize(360, 300)


def viewer_size(available: QSize) -> QSize:
    """The viewer's size on a screen whose available area is `available`."""
    width = min(PREFERRED.width(), available.width() - FRAME.width())
    height = min(PREFERRED.height(), available.height() - FRAME.height())
    return QSize(max(width, MINIMUM.width()), max(height, MINIMUM.height()))


def place_on_screen(window: QWidget, near: QWidget | None) -> None:
    """Size `window` with `viewer_size` for the screen of `near` (else the primary one)
    and centre it in that screen's available area."""
    screen = near.screen() if near is not None else QGuiApplication.primaryScreen()
    area: QRect = screen.availableGeometry()
    size = viewer_size(area.size())
    window.resize(size)
    left = area.left() + (area.width() - size.width()) // 2
    top = area.top() + max((area.height() - size.height() - FRAME.height()) // 2, 0)
    window.move(left, top)
