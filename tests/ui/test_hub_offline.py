"""With HF_HUB_OFFLINE set, the Models page's Hugging Face tab says so at once and asks
nothing: search is switched off, and pressing it anyway opens no socket (strace)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.ui.pages.models import ModelsPage
from app.workbench import Workbench

# Run by the strace test in a process of its own, offscreen.
CHILD = """
import sys
from PySide6.QtWidgets import QApplication
from app.ui.pages.models import ModelsPage
from app.workbench import Workbench

app = QApplication([])
wb = Workbench.open()
page = ModelsPage(wb)
errors = []
page.error.connect(errors.append)
page.search_box.setText("llama")
page.search()
assert errors and "HF_HUB_OFFLINE is set" in errors[0], errors
assert page.hub_offline_label.text() == errors[0]
page.shutdown()
wb.close()
print("said:", errors[0])
"""


def test_the_hub_tab_says_it_is_offline(
    qtbot: QtBot, carrel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    wb = Workbench.open()
    page = ModelsPage(wb)
    qtbot.addWidget(page)
    try:
        assert not page.hub_offline_label.isHidden()
        assert "HF_HUB_OFFLINE is set" in page.hub_offline_label.text()
        assert not page.search_button.isEnabled() and not page.search_box.isEnabled()
        with qtbot.waitSignal(page.error, timeout=1000) as said:
            page.search()
        assert "did not contact it" in said.args[0]
        assert wb.privacy.ledger.entries() == []  # nothing was asked, so nothing to record
    finally:
        page.shutdown()
        page.close()
        wb.close()


@pytest.mark.skipif(shutil.which("strace") is None, reason="Debian's strace is not installed")
def test_the_hub_tab_opens_no_socket(carrel_home: Path, tmp_path: Path) -> None:
    trace = tmp_path / "socket.trace"
    env = {
        **os.environ,
        "CARREL_HOME": str(carrel_home),
        "HF_HUB_OFFLINE": "1",
        "QT_QPA_PLATFORM": "offscreen",
    }
    strace = ["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", str(trace)]
    done = subprocess.run(
        [*strace, sys.executable, "-c", CHILD],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if "ptrace" in done.stderr and done.returncode != 0:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HF_HUB_OFFLINE is set" in done.stdout
    calls = trace.read_text()
    assert "AF_INET" not in calls, calls
