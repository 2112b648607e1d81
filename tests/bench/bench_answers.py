"""Issue 17 (items 1 and 7) figures, printed as JSON: `python -m tests.bench.bench_answers`.

- markers: what checking a reply against its sources costs at the end of a reply: the
  core's `check_answer` alone (a 400-token reply with 10 markers, 3 links, 5 sources of
  1,600 characters), the window's `end_reply` of that reply with its sources (normalised,
  markers linked, links policed, sources with excerpts) and, interleaved, `end_reply` of
  the same text with the checking switched off (main's path), as a ratio;
- open: opening a conversation of 50 exchanges whose replies each cite 5 sources, with
  the checking and without it (main's path), interleaved;
- startup: process start to the main window's first paint, this branch with a kept
  window state (geometry, splitters, page, theme restored) against main's code (a
  `git archive` of main, no state), interleaved rounds, as a ratio of medians.

Not collected by pytest. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from app.citation import Citation
from app.markers import CheckedAnswer, check_answer
from tests.bench.bench_gui import COLD_START_CHILD

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "The harbour office keeps the mooring register and answers questions about fees. "


def sources() -> list[Citation]:
    text = (SENTENCE * 20)[:1500] + " See https://harbour.example.org/fees for the list."
    return [
        Citation(f"/docs/manual-{n}.pdf", page=n * 3, text=text, n=n, collection="harbour")
        for n in range(1, 6)
    ]


def reply() -> str:
    """~400 tokens of prose with ten markers of the kinds small models write."""
    marks = [
        "[1]",
        "[2] (manual-2.pdf p. 6)",
        "[Source 3]",
        "[1, 4]",
        "[7]",
        "[5] (manual-5.pdf p. 15)",
        "【2】",
        "[3-4]",
        "[1] (manual-4.pdf p. 12)",
        "[9]",
    ]
    parts = [f"{SENTENCE * 2}{m}" for m in marks]
    parts.append(" Pay at https://harbour.example.org/fees or https://made.up/pay or www.x.io.")
    return " ".join(parts)


def timed(fn: Any, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_markers(rounds: int = 60) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from app.ui import reply_render
    from app.ui.chat_view import ChatView

    app = QApplication.instance() or QApplication(sys.argv)
    text, cited = reply(), sources()
    core = timed(lambda: check_answer(text, cited), rounds)
    view = ChatView()
    view.resize(900, 700)
    real_check, real_link = reply_render.check_answer, reply_render.link_markers

    def end(checking: bool) -> None:
        reply_render.check_answer = real_check if checking else (lambda t, _s: CheckedAnswer(t))
        reply_render.link_markers = real_link if checking else (lambda *_a: None)
        view.clear_conversation()
        view.begin_reply()
        view.append_stream(text)
        view.end_reply(text, "model · 80 tok/s", citations=cited)

    with_check: list[float] = []
    without: list[float] = []
    try:
        for _ in range(rounds):  # interleaved
            with_check += timed(lambda: end(True), 1)
            without += timed(lambda: end(False), 1)
    finally:
        reply_render.check_answer, reply_render.link_markers = real_check, real_link
    view.deleteLater()
    app.processEvents()
    checked = check_answer(text, cited)
    return {
        "reply_chars": len(text),
        "markers": len(checked.markers),
        "unknown": checked.unknown,
        "check_answer_ms_median": round(statistics.median(core), 3),
        "check_answer_ms_max": round(max(core), 3),
        "end_reply_ms_median": round(statistics.median(with_check), 2),
        "end_reply_unchecked_ms_median": round(statistics.median(without), 2),
        "ratio_checked_to_unchecked": round(
            statistics.median(with_check) / statistics.median(without), 3
        ),
    }


def bench_open(exchanges: int = 50, rounds: int = 7) -> dict[str, Any]:
    """Opening a conversation whose every reply is from 5 sources (`show_thread`), with
    the checking and, interleaved, with it switched off (main's path)."""
    from PySide6.QtWidgets import QApplication

    from app.branches import Turn
    from app.store import Message
    from app.ui import reply_render
    from app.ui.chat_view import ChatView

    app = QApplication.instance() or QApplication(sys.argv)
    records = [c.to_record() for c in sources()]
    turns = []
    for i in range(exchanges):
        asked = Message(2 * i + 1, 1, "user", "Where do visitors pay the fee?")
        answer = Message(2 * i + 2, 1, "assistant", reply(), stats={"citations": records})
        turns += [Turn(asked, (asked.id,)), Turn(answer, (answer.id,))]
    view = ChatView()
    view.resize(900, 700)
    real_check, real_link = reply_render.check_answer, reply_render.link_markers

    def show(checking: bool) -> None:
        reply_render.check_answer = real_check if checking else (lambda t, _s: CheckedAnswer(t))
        reply_render.link_markers = real_link if checking else (lambda *_a: None)
        view.show_thread(turns)

    with_check: list[float] = []
    without: list[float] = []
    try:
        for _ in range(rounds):
            with_check += timed(lambda: show(True), 1)
            without += timed(lambda: show(False), 1)
    finally:
        reply_render.check_answer, reply_render.link_markers = real_check, real_link
    view.deleteLater()
    app.processEvents()
    return {
        "exchanges": exchanges,
        "open_ms_median": round(statistics.median(with_check)),
        "open_unchecked_ms_median": round(statistics.median(without)),
        "ratio_checked_to_unchecked": round(
            statistics.median(with_check) / statistics.median(without), 3
        ),
    }


def first_paint_ms(cwd: Path, state: Path | None) -> float:
    with tempfile.TemporaryDirectory() as home:
        if state is not None:
            (Path(home) / "config").mkdir(parents=True)
            shutil.copy(state, Path(home) / "config" / "window.ini")
        env = {**os.environ, "CARREL_HOME": home, "PYTHONPATH": str(cwd)}
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", COLD_START_CHILD],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout
        return (float(out.strip().splitlines()[0]) - t0) * 1000


def saved_state() -> Path:
    """A window.ini as a person leaves it: resized, splitter moved, Documents page, dark."""
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.workbench import Workbench

    app = QApplication.instance() or QApplication(sys.argv)
    keep = Path(tempfile.mkdtemp()) / "window.ini"
    with tempfile.TemporaryDirectory() as home:
        os.environ["CARREL_HOME"] = home
        window = MainWindow(Workbench.open())
        window.resize(1300, 820)
        window.set_theme("dark")
        a, b, c = window.chat_tab.sizes()
        window.chat_tab.setSizes([a + 30, b - 30, c])
        window.tabs.setCurrentWidget(window.documents_page)
        window.shutdown()
        window.deleteLater()
        app.processEvents()
        shutil.copy(Path(home) / "config" / "window.ini", keep)
        del os.environ["CARREL_HOME"]
    return keep


def bench_startup(rounds: int = 7) -> dict[str, Any]:
    state = saved_state()
    main_src = Path(tempfile.mkdtemp())
    archive = subprocess.run(["git", "archive", "main"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(main_src)], input=archive.stdout, check=True)
    ours: list[float] = []
    theirs: list[float] = []
    first_paint_ms(ROOT, state)  # warm the page cache for both
    first_paint_ms(main_src, None)
    for i in range(rounds):  # interleaved, alternating which goes first
        pair = [(ROOT, state, ours), (main_src, None, theirs)]
        for cwd, kept, into in pair if i % 2 == 0 else pair[::-1]:
            into.append(first_paint_ms(cwd, kept))
    shutil.rmtree(main_src, ignore_errors=True)
    return {
        "branch_with_state_ms": [round(t) for t in ours],
        "main_ms": [round(t) for t in theirs],
        "branch_median_ms": round(statistics.median(ours)),
        "main_median_ms": round(statistics.median(theirs)),
        "ratio_branch_to_main": round(statistics.median(ours) / statistics.median(theirs), 3),
    }


def main() -> int:
    only = sys.argv[1:]
    out: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    if not only or "markers" in only:
        out["markers"] = bench_markers()
    if not only or "open" in only:
        out["open"] = bench_open()
    if not only or "startup" in only:
        out["startup"] = bench_startup()
    out["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
