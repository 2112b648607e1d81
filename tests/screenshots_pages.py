"""Every page of the main window at three sizes, taken under Xvfb with the real model:
`python -m tests.screenshots_pages` writes, in docs/screenshots/, PAGE-WxH.png for the
pages chat, documents, models and server at 1000×650, 1400×900 and 2560×1440; the chat
shows a document answer (its sources with excerpts, the note on a small model). Also
chat-step-1400x900.png (the retrieval step in the reply area while the passages are
read), chat-advanced-1000x650.png (the side panel scrolled, "Advanced" open) and
chat-dark-1400x900.png (the dark theme). Uses its own display (:131); needs the Debian
packages of `tests.screenshots`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DISPLAY = ":131"
SIZES = ((1000, 650), (1400, 900), (2560, 1440))
NOTES = """# Harbour rules

The harbour master is Ingrid Solberg; her office is open from 7 to 19 every day.
Boats must be moored bow first and tied at two points at least. Visitors pay the mooring
fee at the office or online at https://harbour.example.org/fees before the first night.

## Winter

From November to March the outer pier is closed and every boat lies in the inner basin.
"""


def start_xvfb() -> subprocess.Popen[bytes]:
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is missing: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1")
    proc = subprocess.Popen(
        ["Xvfb", DISPLAY, "-screen", "0", "2600x1500x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{DISPLAY[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)  # a script waiting on an external process, not a test
    return proc


def shoot(home: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.workbench import Workbench
    from tests.bench.bench_gui import wait_for

    app = QApplication.instance() or QApplication(sys.argv)
    wb = Workbench.open()
    wb.settings.sampling.seed = 5
    notes = home / "harbour-rules.md"
    notes.write_text(NOTES)
    wb.documents.add([notes], "harbour")
    wb.new_conversation("Summarise the Q3 report")
    window = MainWindow(wb)
    window.resize(1400, 900)
    window.show()
    window.start(load_default=True)
    wait_for(window.model_loaded)
    window.collection_picker.refresh()
    OUT.mkdir(parents=True, exist_ok=True)

    window.new_conversation()
    window.collection_picker.set_selected(["harbour"])
    window._save_params()
    window.params.max_tokens.setValue(120)
    window.prompt.setPlainText("Who is the harbour master, and where do visitors pay?")
    window.send()
    wait_for(window.chat.step_shown)
    if "Reading" not in window.chat.toPlainText():
        wait_for(window.chat.step_shown)
    app.processEvents()
    window.grab().save(str(OUT / "chat-step-1400x900.png"))
    wait_for(window.reply_finished)

    pages = {
        "chat": window.chat_tab,
        "documents": window.documents_page,
        "models": window.models_page,
        "server": window.server_page,
    }
    window.documents_page.refresh_collections()
    for width, height in SIZES:
        window.resize(width, height)
        for name, page in pages.items():
            window.tabs.setCurrentWidget(page)
            for _ in range(3):
                app.processEvents()
            window.grab().save(str(OUT / f"{name}-{width}x{height}.png"))
        if width == 1000:
            window.tabs.setCurrentWidget(window.chat_tab)
            window.params.advanced_toggle.setChecked(True)
            app.processEvents()
            side = window.chat_tab.widget(2)
            side.verticalScrollBar().setValue(side.verticalScrollBar().maximum())  # type: ignore[attr-defined]
            app.processEvents()
            window.grab().save(str(OUT / "chat-advanced-1000x650.png"))
            window.params.advanced_toggle.setChecked(False)
            side.verticalScrollBar().setValue(0)  # type: ignore[attr-defined]
    window.resize(1400, 900)
    window.tabs.setCurrentWidget(window.chat_tab)
    window.set_theme("dark")
    for _ in range(3):
        app.processEvents()
    window.grab().save(str(OUT / "chat-dark-1400x900.png"))
    window.set_theme("system")
    window.close()
    window.deleteLater()
    app.processEvents()


def main() -> int:
    xvfb = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ.update(
                DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", CARREL_HOME=home, HF_HUB_OFFLINE="1"
            )
            shoot(Path(home))
    finally:
        xvfb.terminate()
        xvfb.wait()
    print(f"wrote PAGE-WxH.png for every page and size, and the chat's extras, in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
