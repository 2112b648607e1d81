"""The Server page: start the server from the window, a real client's request appears in
the live log, stop it; an address off loopback without a token is refused in one line."""

from __future__ import annotations

from pathlib import Path

import httpx
from pytestqt.qtbot import QtBot

from app.ui.pages.server import ServerPage
from app.workbench import Workbench

TIMEOUT_MS = 60_000


def test_start_serve_log_and_stop(qtbot: QtBot, carrel_home: Path) -> None:
    wb = Workbench.open()
    page = ServerPage(wb)
    qtbot.addWidget(page)
    try:
        assert page.token.text() == "none"
        assert "SmolLM2-135M-Instruct.Q4_1" in [
            page.model.itemText(i) for i in range(page.model.count())
        ]
        page.port.setValue(0)
        with qtbot.waitSignal(page.started, timeout=TIMEOUT_MS) as started:
            page.toggle.click()
        url = started.args[0]
        assert page.address.text() == url and page.toggle.text() == "Stop"
        assert not page.host.isEnabled()
        with qtbot.waitSignal(page.logged, timeout=TIMEOUT_MS) as logged:
            models = httpx.get(f"{url}/models")
        assert models.status_code == 200
        assert "GET /v1/models 200" in logged.args[0]
        assert page.log.count() == 1
        with qtbot.waitSignal(page.stopped, timeout=TIMEOUT_MS):
            page.toggle.click()
        assert page.address.text() == "Stopped" and page.toggle.text() == "Start"
    finally:
        page.shutdown()
        wb.close()


def test_off_loopback_without_a_token_is_refused(qtbot: QtBot, carrel_home: Path) -> None:
    wb = Workbench.open()
    page = ServerPage(wb)
    qtbot.addWidget(page)
    try:
        page.host.setText("0.0.0.0")
        page.port.setValue(0)
        with qtbot.waitSignal(page.failed, timeout=TIMEOUT_MS) as failed:
            page.toggle.click()
        assert "needs a token" in failed.args[0]
        assert page.server is None and page.toggle.text() == "Start"
    finally:
        wb.close()
