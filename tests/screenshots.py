"""Screenshots of the main window with the real model, taken under Xvfb:
`python -m tests.screenshots` writes docs/screenshots/main-mid-reply.png and
docs/screenshots/main-markdown.png. Needs the Debian packages xvfb, libxcb-icccm4,
libxcb-keysyms1, libxcb-cursor0 and libxkbcommon-x11-0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DISPLAY = ":99"


def start_xvfb() -> subprocess.Popen[bytes]:
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is missing: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1")
    proc = subprocess.Popen(
        ["Xvfb", DISPLAY, "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
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


def shoot() -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.workbench import Workbench
    from tests.bench.bench_gui import wait_for

    app = QApplication.instance() or QApplication(sys.argv)
    wb = Workbench.open()
    wb.settings.sampling.seed = 3
    for title in ("Trip planning notes", "Summarise the Q3 report"):
        wb.new_conversation(title)
    window = MainWindow(wb)
    window.resize(1280, 800)
    window.show()
    window.start(load_default=True)
    wait_for(window.model_loaded)
    OUT.mkdir(parents=True, exist_ok=True)

    window.new_conversation()
    window.params.max_tokens.setValue(400)
    window.prompt.setPlainText("Write a short story about a cat who learns to sail.")
    window.send()
    while len(window.chat.streamed_text()) < 500 and window.generating:
        wait_for(window.chat.document().contentsChanged, 5)
    app.processEvents()
    window.grab().save(str(OUT / "main-mid-reply.png"))
    window.stop()
    wait_for(window.reply_finished)

    window.new_conversation()
    window.params.max_tokens.setValue(300)
    window.prompt.setPlainText(
        "Using Markdown, give a bulleted list of three fruits with a short note each, "
        "then a Python code block that prints their names."
    )
    window.send()
    wait_for(window.reply_finished)
    app.processEvents()
    window.grab().save(str(OUT / "main-markdown.png"))
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
            shoot()
    finally:
        xvfb.terminate()
        xvfb.wait()
    print(f"wrote {OUT / 'main-mid-reply.png'} and {OUT / 'main-markdown.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
