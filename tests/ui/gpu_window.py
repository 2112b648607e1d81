"""The main window on the lavapipe Vulkan device, in a process of its own (ggml lists its
devices once per process, and the test process has none visible). Run by
`test_gpu_window.py` with GGML_VK_VISIBLE_DEVICES=0; prints one JSON object.

It loads the default model, reads the status bar, makes the next `llama_decode` return -3
(llama.cpp's "graph compute failed", see `tests.engine.vulkan_probe.lost`), sends a message,
and records what the window shows: the error, the status bar once the model is back on the
CPU, and that the next message is answered.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.ui.main_window import MainWindow
from app.workbench import Workbench
from tests.bench.bench_gui import wait_for


def until(check: Any, timeout_s: float = 300.0) -> bool:
    """Run the event loop until `check()` is true (a script's wait, not a test's sleep)."""
    end = time.monotonic() + timeout_s
    while not check() and time.monotonic() < end:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return bool(check())


def main() -> None:
    import llama_cpp.llama_cpp as bindings

    app = QApplication.instance() or QApplication(sys.argv)
    wb = Workbench.open()
    wb.settings.sampling.max_tokens = 3
    wb.settings.sampling.seed = 1
    window = MainWindow(wb)
    window.show()
    window.start(load_default=True)
    wait_for(window.model_loaded)
    out: dict[str, Any] = {"loaded": window.status.runs_on.text()}
    real = bindings.llama_decode
    bindings.llama_decode = lambda ctx, batch: -3
    window.prompt.setPlainText("Name a planet.")
    window.send()
    wait_for(window.reply_finished)
    bindings.llama_decode = real
    out["error"] = window.error_bar.message
    out["send_enabled_after_error"] = window.send_button.isEnabled()
    out["settled"] = until(lambda: window.status.runs_on.text() == "CPU")
    out["after"] = window.status.runs_on.text()
    out["panel"] = window.model_panel.runs_on.text()
    window.prompt.setPlainText("Name a planet.")
    window.send()
    done = wait_for(window.reply_finished)
    out["next_reply"] = done[0].text if done and done[0] is not None else None
    window.shutdown()
    app.processEvents()
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
