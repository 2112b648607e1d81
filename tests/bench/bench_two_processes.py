"""Two Carrel processes and one collection: what a search from a second process meets
while the first ingests. `python -m tests.bench.bench_two_processes`, JSON on stdout.

Each round, interleaved: an ingest alone, then searches (`carrel search`, a fresh process
each) alone on what it made (the reference); then the same ingest again into a fresh
home with searches started one after another from its first recorded file to its end.
A search during the ingest waits for the collection (the ingest hands it over between
two groups of files); its figure is its wall time, and how long it said it waited.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.runners import ROOT, Output

FILES = 60
WAITED = re.compile(r"waiting for it \((\d+) s\)")


def corpus(folder: Path) -> Path:
    folder.mkdir()
    for i in range(FILES):
        line = f"Marsh note {i}: herons and kestrels nest near the water in spring. "
        paragraphs = [f"Part {p}. " + line * 14 for p in range(6)]
        (folder / f"note-{i:02d}.txt").write_text("\n\n".join(paragraphs))
    return folder


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "CARREL_HOME": str(home), "HF_HUB_OFFLINE": "1"}


def ingest(folder: Path, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.runners", "ingest", str(folder), "kb", "64"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env_for(home),
    )


def search(home: Path) -> tuple[float, int]:
    """Wall seconds of one `carrel search` process, and the seconds it said it waited."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app", "search", "heron nest", "--collection", "kb", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env_for(home),
        timeout=900,
        check=True,
    )
    waits = [int(s) for s in WAITED.findall(done.stderr)]
    return time.perf_counter() - t0, max(waits, default=0)


def round_(folder: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        t0 = time.perf_counter()
        alone = ingest(folder, Path(a))
        alone.communicate(timeout=3600)
        ingest_alone = time.perf_counter() - t0
        reference = [search(Path(a))[0] for _ in range(3)]

        t0 = time.perf_counter()
        busy = ingest(folder, Path(b))
        events = Output(busy.stdout)  # type: ignore[arg-type]
        events.wait_for("file ", timeout=600)
        during: list[tuple[float, int]] = []
        while busy.poll() is None:
            during.append(search(Path(b)))
        ingest_busy = time.perf_counter() - t0
        events.rest()
        assert busy.stdout is not None
        busy.stdout.close()
    return {
        "ingest_alone_s": round(ingest_alone, 1),
        "ingest_with_searches_s": round(ingest_busy, 1),
        "search_alone_s": [round(s, 1) for s in reference],
        "search_during_ingest_s": [round(s, 1) for s, _ in during],
        "said_it_waited_s": [w for _, w in during],
    }


def main() -> int:
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = corpus(Path(tmp) / "notes")
        for _ in range(2):
            rounds.append(round_(folder))
    alone = [s for r in rounds for s in r["search_alone_s"]]
    during = [s for r in rounds for s in r["search_during_ingest_s"]]
    waited = [w for r in rounds for w in r["said_it_waited_s"]]
    ingest_ratio = statistics.median(
        r["ingest_with_searches_s"] / r["ingest_alone_s"] for r in rounds
    )
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "machine": f"{platform.machine()} {os.cpu_count()} cores",
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "files": FILES,
                "rounds": rounds,
                "search_alone_median_s": round(statistics.median(alone), 1),
                "search_during_ingest_median_s": round(statistics.median(during), 1),
                "search_during_ingest_max_s": round(max(during), 1),
                "waited_median_s": statistics.median(waited),
                "waited_max_s": max(waited),
                "ingest_slowdown_ratio": round(ingest_ratio, 2),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
