"""GUI fixtures: a main window over a real Workbench with the real SmolLM2 model loaded,
a real OpenAI-compatible server on loopback for the remote-endpoint tests, and a check
that fails any test which leaves a widget alive."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.workbench import Workbench
from tests.support.servers import REMOTE_API_KEY, Received, RecordingProxy

TIMEOUT_MS = 60_000
MAX_TOKENS = 12


def _alive(before: set[QWidget]) -> list[QWidget]:
    """Windows made since `before` that are still alive once deletions are processed."""
    for _ in range(2):
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
    return [w for w in QApplication.topLevelWidgets() if w not in before]


@pytest.fixture(autouse=True)
def _no_widget_left_alive(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a window or widget alive after it (and after qtbot closed
    what it registered): a page or dialog nobody closed keeps its workers, its workbench
    and their files open into the next test. Autouse, so it is torn down after qtbot."""
    before = set(QApplication.topLevelWidgets())
    yield
    left = _alive(before)
    for w in left:  # do not let one leak fail every later test too
        w.close()
        w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if left:
        names = ", ".join(f"{type(w).__name__}({w.objectName()!r})" for w in left)
        pytest.fail(f"the test left widgets alive: {names}")


def open_window(qtbot: QtBot, load: bool = True) -> MainWindow:
    wb = Workbench.open()
    wb.settings.sampling.max_tokens = MAX_TOKENS
    wb.settings.sampling.seed = 7
    window = MainWindow(wb, owns_workbench=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.models_listed, timeout=TIMEOUT_MS):
        if load:
            with qtbot.waitSignal(window.model_loaded, timeout=TIMEOUT_MS):
                window.start(load_default=True)
        else:
            window.start(load_default=False)
    return window


@pytest.fixture
def window(qtbot: QtBot, carrel_home: Path) -> Iterator[MainWindow]:
    w = open_window(qtbot)
    yield w
    w.close()


def send(qtbot: QtBot, window: MainWindow, text: str) -> Any:
    """Type `text`, press Enter, wait for the reply; returns its `Done`."""
    window.prompt.setPlainText(text)
    with qtbot.waitSignal(window.reply_finished, timeout=TIMEOUT_MS) as blocker:
        window.prompt.setFocus()
        window.send()
    return blocker.args[0]


# A real remote: llama-cpp-python's OpenAI-compatible server on loopback, behind a proxy
# that records every request it receives (so a test can see that nothing was sent).
REMOTE_KEY = REMOTE_API_KEY  # the session's server is in tests/conftest.py
PASSPHRASE = "a passphrase typed by the person"


def completions(proxy: RecordingProxy) -> list[Received]:
    return [r for r in proxy.received if r.path.endswith("/chat/completions")]
