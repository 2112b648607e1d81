"""The Documents page's file list alone, with and without a thread running Python beside
it, printed as JSON: `python -m tests.bench.bench_files_table [--files 10000] [--rounds 5]`.

Each time Qt calls into the list's model (Python), the GUI thread must take the GIL; while
another thread runs Python (an ingest's reader and embedder do) each such call can wait
up to the switch interval. So the list is timed alone and beside a thread that runs Python
all the while (the worst case), offscreen, each step followed by the events it caused (its
paint included): a folder's files arriving queued, 256 of them moved to "embedding",
settled, and a full refresh. Also counted: the calls into the model's Python for the first
step. Run it from an older checkout (the same file copied there) to compare.

Not collected by pytest. The machine is shared: give the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

STEPS = ("queued", "moved", "settled", "refresh")


def spin(stop: threading.Event) -> None:
    """Python all the while, as an ingest's threads run it between their C calls."""
    x = 0
    while not stop.is_set():
        x = sum(i * i for i in range(2000)) + len(str(x))


def one_round(app: QApplication, n: int, calls: dict[str, int]) -> dict[str, float]:
    from app.rag.records import FileRecord
    from app.ui.pages.files_table import FilesTable

    sources = tuple(f"/home/analyst/cases/2026/notes/note{i:05d}.txt" for i in range(n))
    records = [FileRecord("c", s, "h", 10, 1, "indexed", "", 1, 1, 0.0) for s in sources]
    table = FilesTable()
    table.resize(900, 600)
    table.show()
    app.processEvents()
    out: dict[str, float] = {}
    for k in calls:
        calls[k] = 0
    steps = (
        lambda: table.set_state(sources, "queued"),
        lambda: table.set_state(sources[:256], "embedding"),
        lambda: table.settle(sources[:256], records[:256], {}, {}),
        lambda: table.show_files(records, {}, {}),
    )
    for name, step in zip(STEPS, steps, strict=True):
        t = time.perf_counter()
        step()
        app.processEvents()
        out[name] = round((time.perf_counter() - t) * 1000, 1)
        if name == "queued":
            out["calls_queued"] = sum(calls.values())
    table.deleteLater()
    app.processEvents()
    return out


def count_calls() -> dict[str, int]:
    """Count the calls Qt makes into the model's Python (whichever methods it has)."""
    from app.ui.pages.files_table import FilesModel

    calls: dict[str, int] = {}
    for name in ("rowCount", "columnCount", "data", "multiData", "index", "hasChildren"):
        real = FilesModel.__dict__.get(name)
        if real is None:
            continue
        calls[name] = 0

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = name) -> Any:
            calls[_name] += 1
            return _real(self, *args)

        setattr(FilesModel, name, counted)
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the list")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per condition")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    calls = count_calls()
    results: dict[str, Any] = {"files": args.files, "load_before": os.getloadavg()}
    for condition in ("alone", "busy"):
        stop = threading.Event()
        if condition == "busy":
            threading.Thread(target=spin, args=(stop,), daemon=True).start()
        rounds = [one_round(app, args.files, calls) for _ in range(args.rounds)]
        stop.set()
        results[condition] = {
            name: {
                "median_ms": statistics.median(r[name] for r in rounds),
                "range_ms": [min(r[name] for r in rounds), max(r[name] for r in rounds)],
            }
            for name in STEPS
        }
        results[condition]["calls_queued"] = rounds[-1]["calls_queued"]
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
