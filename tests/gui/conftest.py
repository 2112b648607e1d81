"""GUI fixtures: a main window over a real Workbench with the real SmolLM2 model loaded,
and a real OpenAI-compatible server on loopback for the remote-endpoint tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.workbench import Workbench
from tests.privacy.servers import LlamaServer, Received, RecordingProxy

TIMEOUT_MS = 60_000
MAX_TOKENS = 12


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
REMOTE_KEY = "sk-carrel-gui-test-Zq81-SECRET-7c3d"
PASSPHRASE = "a passphrase typed by the person"


@pytest.fixture(scope="session")
def llama_server(
    smollm_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    log = tmp_path_factory.mktemp("gui-server") / "server.log"
    server = LlamaServer(smollm_path, REMOTE_KEY, log).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(llama_server.port).start()
    yield p
    p.stop()


def completions(proxy: RecordingProxy) -> list[Received]:
    return [r for r in proxy.received if r.path.endswith("/chat/completions")]
