"""Issue 17 (items 1 and 7) figures, printed as JSON: `python -m tests.bench.bench_answers`.

- markers: what checking a reply against its sources costs at the end of a reply: the
  core's `check_answer` alone (a 400-token reply with 10 markers, 3 links, 5 sources of
  1,600 characters), the window's `end_reply` of that reply with its sources (normalised,
  markers linked, links policed, sources with excerpts) and, interleaved, `end_reply` of
  the same text with the checking switched off (main's path), as a ratio;
- open: opening a conversation of 50 exchanges whose replies each cite 5 sources, with
  the checking and without it (main's path), interleaved;
- startup: `python -m app` to its window mapped and visible (xdotool), this branch with a kept
  window state (geometry, splitters, page, theme restored) against main's code (a
  `git archive` of main, no state), interleaved rounds, as a ratio of medians; real
  windows on Xvfb (Debian `xvfb`, `xdotool`).

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

ROOT = Path(__file__).resolve().parents[2]
DISPLAY = ":133"
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
    pieces = breakdown(view, text, cited, rounds)
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
        "end_reply_pieces_ms_mean": pieces,
    }


def breakdown(view: Any, text: str, cited: list[Citation], rounds: int) -> dict[str, float]:
    """Where the time of `end_reply` goes: each drawing step timed inside it (mean ms)."""
    from app.ui import chat_view, reply_render

    spent: dict[str, float] = {}
    names = ("check_answer", "police_links", "link_markers", "insert_markdown")
    real = {n: getattr(reply_render, n) for n in (*names, "insert_sources")}

    def timing(name: str, fn: Any) -> Any:
        def timed_fn(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

        return timed_fn

    try:
        for n in names:
            setattr(reply_render, n, timing(n, real[n]))
        chat_view.insert_sources = timing("insert_sources", real["insert_sources"])
        t0 = time.perf_counter()
        for _ in range(rounds):
            view.clear_conversation()
            view.begin_reply()
            view.append_stream(text)
            view.end_reply(text, "model · 80 tok/s", citations=cited)
        spent["end_reply"] = time.perf_counter() - t0
    finally:
        for n in names:
            setattr(reply_render, n, real[n])
        chat_view.insert_sources = real["insert_sources"]
    return {k: round(v / rounds * 1000, 2) for k, v in spent.items()}


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


def window_shown_ms(cwd: Path, state: Path | None) -> float:
    """`python -m app` in `cwd` until its window is mapped and visible on Xvfb (as
    `bench_startup_ping` measures it), with `state` as its kept window.ini."""
    home = tempfile.mkdtemp(prefix="carrel-start-")
    if state is not None:
        (Path(home) / "config").mkdir(parents=True)
        shutil.copy(state, Path(home) / "config" / "window.ini")
    env = {
        **os.environ,
        "CARREL_HOME": home,
        "DISPLAY": DISPLAY,
        "QT_QPA_PLATFORM": "xcb",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    t0 = time.perf_counter()
    carrel = subprocess.Popen([sys.executable, "-m", "app"], cwd=cwd, env=env)
    try:
        subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--name", "Carrel"],
            env=env,
            capture_output=True,
            timeout=300,
            check=True,
        )
        return (time.perf_counter() - t0) * 1000
    finally:
        carrel.terminate()
        carrel.wait(timeout=60)
        shutil.rmtree(home, ignore_errors=True)


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
    xvfb = subprocess.Popen(
        ["Xvfb", DISPLAY, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{DISPLAY[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # a script waiting on an external process
    try:
        return _startup_rounds(state, rounds)
    finally:
        xvfb.terminate()
        xvfb.wait()


def _startup_rounds(state: Path, rounds: int) -> dict[str, Any]:
    main_src = Path(tempfile.mkdtemp())
    archive = subprocess.run(["git", "archive", "main"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(main_src)], input=archive.stdout, check=True)
    ours: list[float] = []
    theirs: list[float] = []
    window_shown_ms(ROOT, state)  # warm the page cache for both
    window_shown_ms(main_src, None)
    for i in range(rounds):  # interleaved, alternating which goes first
        pair = [(ROOT, state, ours), (main_src, None, theirs)]
        for cwd, kept, into in pair if i % 2 == 0 else pair[::-1]:
            into.append(window_shown_ms(cwd, kept))
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
