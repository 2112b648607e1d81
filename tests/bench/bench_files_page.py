"""Issue 16 (documents at scale) through the GUI, printed as JSON:
`python -m tests.bench.bench_files_page [--files 1000,10000] [--rounds 3]`.

For each size, a folder of that many small notes (one line each, so the embedder is not
the cost) is added in rounds, each round twice and in alternating order: through the
Documents service alone (the reference: what the ingest itself takes) and through the
Documents page, offscreen, with a 10 ms heartbeat on the GUI thread; each add into a
collection of its own. Reported: the times, the ratio of their medians and each round's
(what the page costs an ingest), the heartbeat's gaps in every page round (the longest is
how long the GUI could not answer), a full refresh of the list at that size, and Remove
file with a tenth of the rows selected, then the rest. The real MiniLM and Qdrant Edge.

Not collected by pytest. The machine is shared: give the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from PySide6.QtWidgets import QApplication

from tests.bench.bench_gui import Heartbeat, wait_for


def notes(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        text = f"Note {i}: the caravan road by the cedar forest, item {i * 7}.\n"
        (folder / f"note{i:05d}.txt").write_text(text, "utf-8")
    return folder


def one_size(n: int, rounds: int, home: Path) -> dict[str, Any]:
    from app.rag.embedder import SentenceEmbedder
    from app.ui.pages.documents import DocumentsPage
    from app.workbench import Workbench

    embedder = SentenceEmbedder()
    embedder.load()
    wb = Workbench.open()
    wb.documents.embedder = embedder
    page = DocumentsPage(wb)
    page.resize(900, 600)
    page.show()
    folder = notes(home / f"notes-{n}", n)
    out: dict[str, Any] = {"files": n, "load_before": os.getloadavg()}
    service: list[float] = []
    through_page: list[float] = []
    heartbeats: list[dict[str, float]] = []

    def alone(name: str) -> None:
        t = time.perf_counter()
        wb.documents.add([folder], name)
        service.append(round(time.perf_counter() - t, 2))

    def on_page(name: str) -> None:
        page.create_collection(name)
        wait_for(page.collections_changed, 60)
        heartbeat = Heartbeat()
        heartbeat.start()
        t = time.perf_counter()
        page.add_paths([folder], name)
        report = wait_for(page.ingest_finished, 7200)[0]
        through_page.append(round(time.perf_counter() - t, 2))
        heartbeats.append(heartbeat.stop())
        assert report is not None and report.count("indexed") == n

    for r in range(rounds):
        first, second = (alone, on_page) if r % 2 == 0 else (on_page, alone)
        first(f"{first.__name__} {n} {r}")
        second(f"{second.__name__} {n} {r}")
    out["service_s"] = service
    out["page_s"] = through_page
    out["page_over_service"] = round(
        statistics.median(through_page) / statistics.median(service), 3
    )
    out["rounds_page_over_service"] = [
        round(p / s, 3) for p, s in zip(through_page, service, strict=True)
    ]
    out["heartbeat"] = heartbeats
    out["max_gap_ms"] = max(h["max_gap_ms"] for h in heartbeats)
    t = time.perf_counter()
    page.refresh_files()
    out["refresh_list_s"] = round(time.perf_counter() - t, 3)
    # Remove file with rows selected, as a person does: a tenth of them, then the rest.
    sources = sorted(page.files.rows())
    for label, chosen in (
        ("tenth", sources[::10]),
        ("rest", sorted(set(sources) - set(sources[::10]))),
    ):
        heartbeat = Heartbeat()
        heartbeat.start()
        t = time.perf_counter()
        page.remove_files(chosen)
        removed = wait_for(page.files_removed, 7200)[0]
        out[f"remove_{label}"] = {
            "files": len(chosen),
            "s": round(time.perf_counter() - t, 2),
            "max_gap_ms": heartbeat.stop()["max_gap_ms"],
        }
        assert len(removed) == len(chosen)
    out["load_after"] = os.getloadavg()
    page.shutdown()
    wb.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="1000,10000", help="folder sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    results = []
    with tempfile.TemporaryDirectory() as home:
        os.environ["CARREL_HOME"] = home
        for n in (int(x) for x in args.files.split(",")):
            results.append(one_size(n, args.rounds, Path(home)))
    print(json.dumps(results, indent=2))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
