"""Screenshots of the chat's reply actions and keyboard furniture, taken under Xvfb with
the real model: `python -m tests.screenshots_chat [WIDTHxHEIGHT]` writes, in
docs/screenshots/, chat-reply-actions.png (a regenerated reply showing ‹ 2/2 ›, a
stopped one offering Continue, the links under each message), chat-editing.png (an
earlier message being edited, with the focus ring on the message box) and
documents-error.png (an error shown on the Documents page, where it happened). Uses its
own display (:117) so it can run beside `tests.screenshots`; needs the same Debian
packages."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import xvfb as virtual_display

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DISPLAY = ":117"


def start_xvfb(size: str) -> subprocess.Popen[bytes]:
    return virtual_display.start_xvfb(DISPLAY, size)


def shoot(width: int, height: int) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.workbench import Workbench
    from tests.bench.bench_gui import wait_for

    app = QApplication.instance() or QApplication(sys.argv)
    wb = Workbench.open()
    wb.settings.sampling.seed = 5
    wb.new_conversation("Summarise the Q3 report")
    window = MainWindow(wb)
    window.resize(width, height)
    window.show()
    window.start(load_default=True)
    wait_for(window.model_loaded)
    OUT.mkdir(parents=True, exist_ok=True)

    window.new_conversation()
    window.params.max_tokens.setValue(70)
    window.prompt.setPlainText("Give me three tips for keeping a desk tidy, one per line.")
    window.send()
    wait_for(window.reply_finished)
    window.params.temperature.setValue(1.1)
    window.reply_actions.regenerate()
    wait_for(window.reply_finished)
    window.params.max_tokens.setValue(400)
    window.prompt.setPlainText("Now explain why a clear desk helps you focus.")
    window.send()
    while len(window.chat.streamed_text()) < 120 and window.generating:
        wait_for(window.chat.document().contentsChanged, 5)
    window.stop()
    wait_for(window.reply_finished)
    window.activateWindow()
    window.prompt.setFocus()
    app.processEvents()
    window.grab().save(str(OUT / "chat-reply-actions.png"))

    window.reply_actions.edit()
    app.processEvents()
    window.grab().save(str(OUT / "chat-editing.png"))
    window.reply_actions.cancel_edit()

    window.tabs.setCurrentWidget(window.documents_page)
    window.documents_page.add_paths([OUT])  # no collection yet: said on this page
    app.processEvents()
    window.grab().save(str(OUT / "documents-error.png"))
    window.close()
    window.deleteLater()
    app.processEvents()


def main() -> int:
    size = sys.argv[1] if len(sys.argv) > 1 else "1400x900"
    width, height = (int(n) for n in size.split("x"))
    xvfb = start_xvfb(size)
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ.update(
                DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", CARREL_HOME=home, HF_HUB_OFFLINE="1"
            )
            shoot(width, height - 40)
    finally:
        xvfb.terminate()
        xvfb.wait()
    print(f"wrote chat-reply-actions.png, chat-editing.png, documents-error.png in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
