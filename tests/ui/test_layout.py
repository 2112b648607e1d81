"""Layout (issue 17, item 7): the parameters panel scrolls at 1000×650 with the less-used
controls under "Advanced"; the reply column is capped and centred; the window's size,
splitters and page come back after a restart; a dark theme, forced or the desktop's."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.chat_page import SidePanel
from app.ui.main_window import MainWindow
from app.ui.theme import DARK_COLORS, LIGHT_COLORS, Theme, chat_colors, is_dark
from app.ui.window_state import splitters
from tests.ui.conftest import open_window


def side_panel(window: MainWindow) -> SidePanel:
    panel = window.chat_tab.widget(2)
    assert isinstance(panel, SidePanel)
    return panel


def test_params_panel_scrolls_at_1000x650_and_hides_the_advanced(
    qtbot: QtBot, carrel_home: Path
) -> None:
    window = open_window(qtbot, load=False)
    window.resize(1000, 650)
    qtbot.waitUntil(lambda: window.height() == 650)
    params, side = window.params, side_panel(window)
    assert not params.advanced.isVisible() and not params.top_p.isVisible()
    assert params.system_prompt.height() >= 90  # not squeezed to a line
    params.advanced_toggle.click()
    window.model_panel.toggle.click()  # the load options too: taller than the window
    qtbot.waitUntil(lambda: side.verticalScrollBar().maximum() > 0)
    # It scrolls up and down, never clips sideways: the panel widens for what opened.
    inner = side.widget()
    assert inner is not None
    qtbot.waitUntil(lambda: side.viewport().width() >= inner.minimumSizeHint().width())
    side.ensureWidgetVisible(params.seed)
    qtbot.waitUntil(lambda: not params.seed.visibleRegion().isEmpty())
    assert params.system_prompt.height() >= 90
    window.close()


def test_reply_column_capped_and_centred(qtbot: QtBot, carrel_home: Path) -> None:
    window = open_window(qtbot, load=False)
    window.resize(2560, 1440)
    chat = window.chat
    qtbot.waitUntil(lambda: chat.viewport().width() > 1500)
    chat.add_user_message("word " * 400)
    frame = chat.document().rootFrame().frameFormat()
    column = chat.viewport().width() - frame.leftMargin() - frame.rightMargin()
    assert column <= chat.reading_width() + 48
    assert frame.leftMargin() == frame.rightMargin() > 300
    window.resize(1000, 650)
    qtbot.waitUntil(lambda: chat.document().rootFrame().frameFormat().leftMargin() == 0)
    window.close()


def test_geometry_splitters_and_page_restored(qtbot: QtBot, carrel_home: Path) -> None:
    window = open_window(qtbot, load=False)
    # Within the offscreen platform's 800×600 screen (a restored geometry is kept on it).
    window.resize(795, 580)
    qtbot.waitUntil(lambda: window.width() == 795)
    # The Chat page is at its minimum widths here: move the other pages' splitters.
    for page in (window.models_page, window.documents_page):
        window.tabs.setCurrentWidget(page)
        qtbot.waitUntil(page.isVisible)
    moved = dict(splitters(window.tabs))
    for key in ("1.0", "2.0"):
        a, b = moved[key].sizes()
        moved[key].setSizes([a + 40, b - 40])
    sizes = {key: s.sizes() for key, s in moved.items()}
    assert sizes["1.0"][0] > 200
    window.close()
    assert any(carrel_home.rglob("window.ini"))  # under CARREL_HOME, nowhere else

    again = open_window(qtbot, load=False)
    assert (again.width(), again.height()) == (795, 580)
    assert again.tabs.currentWidget() is again.documents_page
    for page in (again.chat_tab, again.models_page, again.documents_page):
        again.tabs.setCurrentWidget(page)  # a splitter has its sizes once shown
        qtbot.waitUntil(page.isVisible)
    assert {key: s.sizes() for key, s in splitters(again.tabs)} == sizes
    again.close()


def test_dark_theme_forced_kept_and_following_the_desktop(
    qtbot: QtBot, carrel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = open_window(qtbot, load=False)
    assert not is_dark(app.palette())
    with qtbot.waitSignal(window.theme.changed) as changed:
        window.theme_actions["dark"].trigger()
    assert changed.args == [True] and is_dark(app.palette())
    qtbot.waitUntil(lambda: window.palette().color(QPalette.ColorRole.Window).lightness() < 80)
    assert chat_colors(window.chat) == DARK_COLORS
    window.chat.add_user_message("hello")  # drawn in the dark scheme's colours
    cursor = window.chat.document().find("You")
    assert cursor.charFormat().foreground().color().name() == DARK_COLORS.user
    window.close()
    assert not is_dark(app.palette())  # the platform's palette is back

    again = open_window(qtbot, load=False)  # the choice is kept
    assert again.theme.choice == "dark" and is_dark(app.palette())
    assert again.theme_actions["dark"].isChecked()
    # Following the desktop: its colour scheme (Qt's style hint) turns dark, then light.
    again.theme_actions["system"].trigger()
    assert not is_dark(app.palette()) and chat_colors(again.chat) == LIGHT_COLORS
    monkeypatch.setattr(Theme, "desktop_dark", staticmethod(lambda: True))
    with qtbot.waitSignal(again.theme.changed):
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark(app.palette())
    again.close()
    assert not is_dark(app.palette())
