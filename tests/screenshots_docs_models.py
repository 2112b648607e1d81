"""Screenshots of the Documents and Models pages in a real window under Xvfb, at each
size given (default 1000x650 and 1400x900): `python -m tests.screenshots_docs_models [WxH …]`
writes, in docs/screenshots/, documents-live-WxH.png (an ingest under way: files queued,
reading, embedding, done), documents-WxH.png (a collection named with spaces and accents,
its files and a search's hits, kept after a second ingest), documents-reused-WxH.png (two
of those files copied elsewhere and added: the bar says their passages kept their vectors),
models-WxH.png (Installed with
the library's true size and a model's Info), models-catalog-WxH.png (the Catalog with
Download buttons), models-hub-WxH.png (the Hugging Face tab saying it is switched off) and
viewer-WxH.png (the viewer as it opens on that screen, a passage across a page break
marked) and documents-sections-WxH.png (hits in a real manual, each cited under the
section its PDF outline names). No model is loaded. Uses its own display (:137); needs the
Debian packages of `tests.screenshots`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import xvfb as virtual_display

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DISPLAY = ":137"
MANUAL = Path("/usr/share/doc/gutenprint-doc/gutenprint-users-manual.pdf")
NAME = "Field notes — été 2026"


def start_xvfb(size: str) -> subprocess.Popen[bytes]:
    return virtual_display.start_xvfb(DISPLAY, size)


def corpus(folder: Path) -> list[Path]:
    from tests.support.files import make_pdf

    folder.mkdir(parents=True, exist_ok=True)
    road = folder / "caravan-road.pdf"
    road.write_bytes(
        make_pdf(
            [
                [f"Page {n} line {i} about the caravan road south of the Atlas." for i in range(12)]
                for n in (1, 2, 3)
            ]
        )
    )
    (folder / "tea.md").write_text("# Tea\n\nGreen tea is steeped at 80 degrees.\n", "utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    readme = Path(__file__).resolve().parents[1] / "README.md"
    shutil.copyfile(readme, folder / "README.md")
    found = [road, folder / "tea.md", folder / "broken.pdf", folder / "README.md"]
    return [*found, MANUAL] if MANUAL.exists() else found


def shoot(size: str, home: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from app.rag.outcome import IngestProgress
    from app.ui.main_window import MainWindow
    from app.ui.viewer import viewer_for
    from app.workbench import Workbench
    from tests.bench.bench_gui import wait_for

    width, height = (int(n) for n in size.split("x"))
    app = QApplication.instance() or QApplication(sys.argv)
    wb = Workbench.open()
    window = MainWindow(wb)
    window.setGeometry(0, 0, width, height)
    window.show()
    window.start(load_default=False)
    files = corpus(home / "docs")

    page = window.documents_page
    window.tabs.setCurrentWidget(page)
    page.create_collection(NAME)
    wait_for(page.collections_changed, 60)
    page.create_collection("atlas")
    wait_for(page.collections_changed, 60)
    page.select_collection(NAME)
    shot: dict[str, bool] = {}

    def live(p: IngestProgress) -> None:  # one picture while files are still moving
        states = {s for s, _ in page.files.rows().values()}
        moving = states & {"queued", "reading…"}
        if "live" not in shot and "embedding…" in states and moving:
            shot["live"] = True
            window.grab().save(str(OUT / f"documents-live-{size}.png"))

    page.ingest_progress.connect(live)
    page.add_paths(files[:2] + files[3:])
    wait_for(page.ingest_finished, 900)
    if "live" not in shot:
        window.grab().save(str(OUT / f"documents-live-{size}.png"))
    page.search("caravan road south of the Atlas")
    wait_for(page.searched, 120)
    page.add_paths([files[2]])  # a second ingest: the hits stay
    wait_for(page.ingest_finished, 120)
    app.processEvents()
    window.grab().save(str(OUT / f"documents-{size}.png"))
    copies = home / "copies"  # the same files by other paths: they keep their vectors
    copies.mkdir()
    page.add_paths([Path(shutil.copy2(f, copies / f.name)) for f in files[:2]])
    wait_for(page.ingest_finished, 120)
    app.processEvents()
    window.grab().save(str(OUT / f"documents-reused-{size}.png"))

    hit = next(c for c in page.hits.citations() if c.page_end and c.page_end != c.page)
    viewer = viewer_for(page)
    viewer.open_citation(hit)
    app.processEvents()
    viewer.grab().save(str(OUT / f"viewer-{size}.png"))
    viewer.close()
    if MANUAL.exists():  # hits cited under the sections of the manual's outline
        page.search("which dither algorithm should I choose for photographs")
        wait_for(page.searched, 120)
        app.processEvents()
        window.grab().save(str(OUT / f"documents-sections-{size}.png"))

    models = window.models_page
    window.tabs.setCurrentWidget(models)
    models.tabs.setCurrentIndex(0)
    models.select_installed("SmolLM2-135M-Instruct.Q4_1")
    models.show_info()
    wait_for(models.info_shown, 60)
    app.processEvents()
    window.grab().save(str(OUT / f"models-{size}.png"))
    models.tabs.setCurrentIndex(1)
    app.processEvents()
    window.grab().save(str(OUT / f"models-catalog-{size}.png"))
    models.tabs.setCurrentIndex(2)
    models.search()
    app.processEvents()
    window.grab().save(str(OUT / f"models-hub-{size}.png"))
    window.close()
    wb.close()


def main() -> int:
    sizes = sys.argv[1:] or ["1000x650", "1400x900"]
    OUT.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        xvfb = start_xvfb(size)
        try:
            with tempfile.TemporaryDirectory() as home:
                os.environ.update(
                    DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", CARREL_HOME=home, HF_HUB_OFFLINE="1"
                )
                # One window per size, in a process of its own: Qt keeps one display.
                code = subprocess.call([sys.executable, "-c", CHILD, size, home])
                if code:
                    return code
        finally:
            xvfb.terminate()
            xvfb.wait()
    print(f"wrote documents-*, models-*, viewer-* for {', '.join(sizes)} in {OUT}")
    return 0


CHILD = (
    "import sys; from pathlib import Path; from tests.screenshots_docs_models import shoot; "
    "shoot(sys.argv[1], Path(sys.argv[2]))"
)


if __name__ == "__main__":
    raise SystemExit(main())
