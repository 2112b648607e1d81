"""Screenshots of the main window with the real model, taken under Xvfb:
`python -m tests.screenshots` writes docs/screenshots/main-mid-reply.png,
docs/screenshots/main-markdown.png, docs/screenshots/settings.png (the Settings dialog with
a self-hosted endpoint switched on and its key in the encrypted vault),
main-remote-enabled.png (the status badge says so), consent.png (what a request
carries) and viewer.png (the built-in viewer on a cited page of a real manual, the passage
marked). `python -m tests.screenshots viewer` writes viewer.png alone, with no model. Needs
the Debian packages xvfb, libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0 and
libxkbcommon-x11-0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support import xvfb as virtual_display

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DISPLAY = ":99"
MANUAL = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")


def start_xvfb() -> subprocess.Popen[bytes]:
    return virtual_display.start_xvfb(DISPLAY, "1440x900")


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
    shoot_documents(window)
    shoot_viewer(window)
    shoot_settings(window)
    window.close()
    window.deleteLater()
    app.processEvents()


def shoot_documents(window: Any) -> None:
    """The Documents page after indexing a real manual, a search, a reply that cites its
    sources, and the Models page."""
    from PySide6.QtWidgets import QApplication

    from tests.bench.bench_gui import wait_for

    app = QApplication.instance()
    assert app is not None
    notes = OUT.parent.parent / "README.md"  # our own README stands in for a document
    manual = MANUAL
    page = window.documents_page
    window.tabs.setCurrentWidget(page)
    wait_for(page.collections_changed, 10)
    page.create_collection("manuals")
    wait_for(page.collections_changed, 30)
    page.select_collection("manuals")
    page.add_paths([p for p in (manual, notes) if p.exists()], "manuals")
    wait_for(page.ingest_finished, 600)
    page.search_box.setText("printer resolution and paper size")
    page.search()
    wait_for(page.searched, 60)
    app.processEvents()
    window.grab().save(str(OUT / "documents.png"))

    window.tabs.setCurrentIndex(0)
    window.new_conversation()
    window.collection_picker.set_selected(["manuals"])
    window._save_params()
    window.params.max_tokens.setValue(120)
    window.prompt.setPlainText("How do I choose the print resolution?")
    window.send()
    wait_for(window.reply_finished, 300)
    app.processEvents()
    window.grab().save(str(OUT / "main-sources.png"))

    window.tabs.setCurrentWidget(window.models_page)
    app.processEvents()
    window.grab().save(str(OUT / "models.png"))
    window.tabs.setCurrentIndex(0)


def shoot_viewer(parent: Any = None) -> None:
    """The built-in viewer on the page of the manual that says how to choose a resolution,
    the passage the index would cite for it marked (a generated PDF without the manual)."""
    from PySide6.QtWidgets import QApplication

    from app.citation import Citation
    from app.rag.chunker import Chunker
    from app.rag.loaders import load
    from app.ui.viewer import DocumentViewer, viewer_for
    from tests.support.files import make_pdf

    app = QApplication.instance() or QApplication(sys.argv)
    manual, words = MANUAL, "general rule of thumb"
    if not manual.exists():
        manual = Path(tempfile.mkdtemp()) / "atlas.pdf"
        filler = [
            f"Line {i} of the notes on the Atlas, written to fill the page." for i in range(20)
        ]
        text = "The Toubkal summit reaches 4167 metres; the climb takes two days from Imlil."
        manual.write_bytes(make_pdf([filler, [*filler, text, *filler]]))
        words = "Toubkal summit"
    chunk = next(c for c in Chunker().chunks(load(manual)) if words in " ".join(c.text.split()))
    citation = Citation(
        str(manual), chunk.page, chunk.page_end, text=chunk.text, start=chunk.start, end=chunk.end
    )
    viewer = viewer_for(parent) if parent is not None else DocumentViewer()
    viewer.resize(900, 1000)
    viewer.open_citation(citation)
    app.processEvents()
    viewer.grab().save(str(OUT / "viewer.png"))
    viewer.close()


def shoot_settings(window: Any) -> None:
    """The Settings dialog: two endpoints (one switched on), a key in the vault."""
    from PySide6.QtWidgets import QApplication

    from app.privacy.policy import EndpointKind
    from tests.bench.bench_gui import wait_for

    privacy = window.wb.privacy
    privacy.add_endpoint(
        "team-server", "http://127.0.0.1:8080/v1", "llama-3.1-8b-instruct", EndpointKind.SELF_HOSTED
    )
    privacy.add_endpoint(
        "vendor", "https://api.example.com/v1", "gpt-4o-mini", EndpointKind.THIRD_PARTY
    )
    privacy.set_enabled("team-server", True)
    privacy.use_vault(True)
    window.refresh_remote()
    dialog = window.open_settings()
    keys = dialog.page.endpoints.keys
    keys.passphrase.setText("correct horse battery staple")
    keys.repeat.setText("correct horse battery staple")  # a new vault asks twice
    keys.unlock_button.click()
    wait_for(keys.hints, 60)
    dialog.page.endpoints.select("team-server")
    keys.key.setText("sk-demo-not-a-real-key-9f3a")
    keys.set_button.click()
    wait_for(keys.key_changed, 60)
    QApplication.processEvents()
    dialog.grab().save(str(OUT / "settings.png"))
    window.grab().save(str(OUT / "main-remote-enabled.png"))
    dialog.reject()
    QApplication.processEvents()
    shoot_consent(window)


def shoot_consent(window: Any) -> None:
    """The consent dialog over the gate's real preview (redaction included); nothing is
    sent: the preview is made without asking or sending."""
    from PySide6.QtWidgets import QApplication

    from app.citation import Citation
    from app.prompt import ChatMessage, Prompt
    from app.ui.consent import ConsentDialog

    privacy = window.wb.privacy
    messages = [
        ChatMessage("system", "You are a careful assistant."),
        ChatMessage(
            "user",
            "Summarise the payment terms for Ada (ada@example.org); the invoice goes to "
            "IBAN DE89 3704 0044 0532 0130 00.",
        ),
    ]
    terms = "Payment is due within 30 days of the invoice date."
    passages = [Citation("/contracts/terms.md", text=terms, collection="contracts")]
    endpoint = privacy.policy.endpoint("team-server")
    preview = privacy.gate.preview(endpoint, Prompt.asking(messages, passages), 1)
    dialog = ConsentDialog(preview, window)
    dialog.show()
    QApplication.processEvents()
    dialog.grab().save(str(OUT / "consent.png"))
    dialog.done(0)


def main() -> int:
    only_viewer = sys.argv[1:] == ["viewer"]
    xvfb = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ.update(
                DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", CARREL_HOME=home, HF_HUB_OFFLINE="1"
            )
            if only_viewer:
                OUT.mkdir(parents=True, exist_ok=True)
                shoot_viewer()
            else:
                shoot()
    finally:
        xvfb.terminate()
        xvfb.wait()
    if only_viewer:
        print(f"wrote viewer.png in {OUT}")
    else:
        print(
            "wrote main-*.png, documents.png, viewer.png, models.png, settings.png, "
            f"consent.png in {OUT}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
