"""Every page of the main window at three sizes, taken under Xvfb with the real model:
`python -m tests.screenshots_pages` writes, in docs/screenshots/, PAGE-WxH.png for the
pages chat, documents, models, server and evaluate at 1000×650, 1400×900 and 2560×1440; the chat
shows a document answer (its sources with excerpts, the note on a small model). Also
chat-step-1400x900.png (the retrieval step in the reply area while the passages are
read), chat-advanced-1000x650.png (the side panel scrolled, "Advanced" open) and
chat-dark-1400x900.png (the dark theme). Uses its own display (:131); needs the Debian
packages of `tests.screenshots`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import xvfb as virtual_display

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
    return virtual_display.start_xvfb(DISPLAY, "2600x1500")


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
    evaluation_run(wb, notes)
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
        "evaluate": window.evaluate_page,
    }
    window.tabs.setCurrentWidget(window.evaluate_page)
    app.processEvents()
    window.evaluate_page.tabs.setCurrentWidget(window.evaluate_page.runs)
    window.evaluate_page.runs.show_results()
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


def evaluation_run(wb: object, notes: Path) -> None:
    """A test set of two questions over the harbour notes and one finished run, so the
    Evaluate page shows results (a few seconds with SmolLM2)."""
    from app.evaluate.service import Evaluation
    from app.evaluate.sets import Gold, Item

    ev = Evaluation(wb)  # type: ignore[arg-type]
    test_set = ev.sets.create("harbour questions", "harbour")
    gold = [Gold(str(notes.resolve()), "harbour", text="Ingrid Solberg")]
    ev.sets.add(
        test_set,
        [
            Item(0, "Who is the harbour master?", "Ingrid Solberg", gold, "facts"),
            Item(0, "Where do visitors pay the mooring fee?", "office", gold, "facts"),
        ],
    )
    run = ev.create_run(
        "harbour questions",
        ["local:SmolLM2-135M-Instruct.Q4_1?k=2"],
        params={"max_tokens": 24},
        name="SmolLM2 on the harbour notes",
    )
    ev.job(run.id).execute()


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
