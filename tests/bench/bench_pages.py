"""Issue 17 (items 5 and 6) figures, printed as JSON: `python -m tests.bench.bench_pages`.

- hub_offline: with HF_HUB_OFFLINE=1, the time from building the Models page to its
  Hugging Face tab saying the hub is switched off, and from pressing Search to the error
  (nothing is asked);
- hub_no_network: with no network and no HF_HUB_OFFLINE, a search of the real endpoint:
  huggingface_hub's own call (what a search was before: it retries five times with
  back-off) once, against Carrel's search now (its name lookup fails at once), 5 times;
- live_list: an ingest of the same 40 small real files (Markdown and PDF, the MiniLM
  embedder, Qdrant Edge) through the Documents page with the live file list and without
  it (the file list changing only as files settle, as before), interleaved, 5 rounds each;
  the ratio of the medians is the list's cost.

Not collected by pytest. Runs offscreen. The machine is shared: give the load average.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from PySide6.QtWidgets import QApplication

from tests.bench.bench_gui import wait_for

ROUNDS = 5
FILES = 40


def hub_offline() -> dict[str, float]:
    from app.ui.pages.models import ModelsPage
    from app.workbench import Workbench

    os.environ["HF_HUB_OFFLINE"] = "1"
    wb = Workbench.open()
    t0 = time.perf_counter()
    page = ModelsPage(wb)
    said = page.hub_offline_label.text() if not page.hub_offline_label.isHidden() else ""
    shown = time.perf_counter() - t0
    errors: list[str] = []
    page.error.connect(errors.append)
    t1 = time.perf_counter()
    page.search()
    searched = time.perf_counter() - t1
    assert said and errors and "HF_HUB_OFFLINE" in errors[0]
    page.shutdown()
    wb.close()
    return {"label_shown_s": round(shown, 4), "search_error_s": round(searched, 5)}


def hub_no_network() -> dict[str, Any]:
    from huggingface_hub import HfApi, constants

    from app.errors import CarrelError
    from app.library.hub import HubClient

    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_ENDPOINT", None)
    before = time.perf_counter()
    constants.HF_HUB_OFFLINE = False
    try:
        list(HfApi().list_models(search="llama", filter="gguf", limit=5))
        raise SystemExit("the hub answered: this figure needs a machine without network")
    except Exception as exc:  # what a search met before: huggingface_hub's own error
        before_message = str(exc)[:80]
    before_s = time.perf_counter() - before
    afters, message = [], ""
    for _ in range(ROUNDS):
        t = time.perf_counter()
        try:
            HubClient(offline=False).search("llama")
        except CarrelError as exc:
            message = exc.message
        afters.append(time.perf_counter() - t)
    return {
        "before_s": round(before_s, 2),
        "before_said": before_message,
        "after_median_s": round(statistics.median(afters), 4),
        "after_said": message,
    }


def corpus(folder: Path) -> list[Path]:
    from tests.support.files import make_pdf

    folder.mkdir(parents=True)
    for n in range(FILES):
        lines = [
            f"Note {n}, line {i}: the caravan road, the cedar forest, the river." for i in range(25)
        ]
        if n % 4 == 0:
            (folder / f"n{n:02d}.pdf").write_bytes(make_pdf([lines[:12], lines[12:]]))
        else:
            (folder / f"n{n:02d}.md").write_text(f"# Note {n}\n\n" + "\n".join(lines), "utf-8")
    return sorted(folder.iterdir())


def live_list() -> dict[str, Any]:
    from app.rag.embedder import SentenceEmbedder
    from app.ui.pages.documents import DocumentsPage
    from app.workbench import Workbench

    os.environ["HF_HUB_OFFLINE"] = "1"
    embedder = SentenceEmbedder()
    embedder.load()
    wb = Workbench.open()
    wb.documents.embedder = embedder
    page = DocumentsPage(wb)
    page.show()
    files = corpus(Path(tempfile.mkdtemp()) / "notes")
    times: dict[str, list[float]] = {"with": [], "without": []}
    for n in range(ROUNDS * 2):
        mode = "with" if n % 2 == 0 else "without"
        name = f"bench {n} {mode}"
        page.create_collection(name)
        wait_for(page.collections_changed, 60)
        page.live_file_list = mode == "with"
        t = time.perf_counter()
        page.add_paths(files, name)
        report = wait_for(page.ingest_finished, 900)[0]
        times[mode].append(time.perf_counter() - t)
        assert report is not None and report.count("indexed") == FILES
    page.shutdown()
    wb.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "files": FILES,
        "rounds": ROUNDS,
        "with_s": [round(x, 2) for x in times["with"]],
        "without_s": [round(x, 2) for x in times["without"]],
        "ratio_with_over_without": round(med["with"] / med["without"], 3),
    }


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as home:
        os.environ["CARREL_HOME"] = home
        out: dict[str, Any] = {"load_before": os.getloadavg()}
        out["hub_offline"] = hub_offline()
        out["hub_no_network"] = hub_no_network()
        out["live_list"] = live_list()
        out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
