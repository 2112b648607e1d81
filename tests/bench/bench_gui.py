"""GUI responsiveness figures, printed as JSON: `python -m tests.bench.bench_gui`.

- stream: a 10 ms heartbeat QTimer on the GUI thread while up to 512 tokens of the real
  SmolLM2 model stream into the chat view (target: max gap <= 50 ms);
- markdown: rendering a finished ~4,000-token Markdown reply (target < 100 ms);
- load: the heartbeat while models load in a worker (the GUI thread must not block);
- cold_start: process start to the main window's first paint (target <= 1.5 s).

Not collected by pytest. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

# What `python -m app` does (import the command line, then its GUI door), plus a hook that
# prints the wall-clock time of the window's first paint and closes it.
COLD_START_CHILD = """
import sys, time
import app.cli, app.cli.gui
from PySide6.QtCore import QTimer
from app.ui import launch
def shown(window):
    print(repr(time.time()), flush=True)
    QTimer.singleShot(0, window.close)
sys.exit(launch.main([sys.argv[0]], on_shown=shown))
"""


class Heartbeat:
    """Records the gaps between ticks of a 10 ms timer on the GUI thread."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.at: list[float] = []  # when each gap ended, seconds after start()
        self._last = self._t0 = 0.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000.0)
        self.at.append(now - self._t0)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self.at.clear()
        self._last = self._t0 = time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        worst = max(range(len(self.gaps)), key=self.gaps.__getitem__) if self.gaps else 0
        return {
            "ticks": len(self.gaps),
            "duration_s": round(time.perf_counter() - self._t0, 2),
            "max_gap_at_s": round(self.at[worst], 3) if self.at else 0.0,
            "gaps_over_50ms": sum(g > 50 for g in self.gaps),
            "max_gap_ms": round(gaps[-1], 1),
            "p99_gap_ms": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], 1),
            "median_gap_ms": round(statistics.median(gaps), 1),
        }


def wait_for(signal: Any, timeout_s: float = 300.0) -> list[Any]:
    loop = QEventLoop()
    got: list[Any] = []

    def on(*args: Any) -> None:
        got.extend(args)
        loop.quit()

    signal.connect(on)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on)
    return got


def markdown_reply(tokens: int = 4000) -> str:
    parts: list[str] = []
    i = 0
    while sum(len(p) for p in parts) < tokens * 4:  # ~4 characters per token
        i += 1
        parts.append(
            f"## Section {i}\n\nThis paragraph explains **point {i}** with *emphasis*, "
            "`inline code` and a [link](https://example.org). It keeps going for a while "
            "so that the text has realistic paragraphs.\n\n"
            "- first item of the list\n- second item with `code`\n  - a nested item\n"
            "1. numbered one\n2. numbered two\n\n"
            f"```python\ndef section_{i}(x: int) -> int:\n    return x * {i}\n```\n\n"
            "| name | value | note |\n|---|---:|---|\n"
            f"| alpha | {i} | first |\n| beta | {i * 2} | second |\n\n"
        )
    return "".join(parts)


def bench_markdown(window: Any) -> dict[str, float]:
    text = markdown_reply()
    runs: list[float] = []
    with_layout: list[float] = []
    for _ in range(5):
        window.chat.clear_conversation()
        window.chat.begin_reply()
        window.chat.append_stream(text)
        QApplication.processEvents()
        t0 = time.perf_counter()
        window.chat.end_reply(text, "bench · 0 tok/s", False)
        t1 = time.perf_counter()
        window.chat.document().documentLayout().documentSize()  # lay the whole reply out
        window.chat.viewport().repaint()
        t2 = time.perf_counter()
        runs.append((t1 - t0) * 1000)
        with_layout.append((t2 - t0) * 1000)
    return {
        "chars": len(text),
        "render_ms_median": round(statistics.median(runs), 1),
        "render_ms_max": round(max(runs), 1),
        "render_layout_paint_ms_median": round(statistics.median(with_layout), 1),
        "render_layout_paint_ms_max": round(max(with_layout), 1),
    }


def bench_cold_start(runs: int = 5) -> dict[str, Any]:
    times: list[float] = []
    root = Path(__file__).resolve().parents[2]
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "CARREL_HOME": home}
            t0 = time.time()
            out = subprocess.run(
                [sys.executable, "-c", COLD_START_CHILD],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            shown = float(out.stdout.strip().splitlines()[0])
            times.append((shown - t0) * 1000)
    return {
        "runs_ms": [round(t) for t in times],
        "median_ms": round(statistics.median(times)),
        "max_ms": round(max(times)),
    }


def main() -> int:
    from app.ui.main_window import MainWindow
    from app.workbench import Workbench

    app = QApplication.instance() or QApplication(sys.argv)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "qpa": os.environ["QT_QPA_PLATFORM"],
    }
    beat = Heartbeat()
    with tempfile.TemporaryDirectory() as home:
        os.environ["CARREL_HOME"] = home
        wb = Workbench.open()
        window = MainWindow(wb)
        window.show()
        window.start(load_default=False)
        wait_for(window.models_listed)

        loads: dict[str, Any] = {}
        for name in [m.name for m in wb.models() if not m.problem]:
            beat.start()
            t0 = time.perf_counter()
            window.load_model(name)
            wait_for(window.busy_changed)  # busy on is emitted synchronously; wait for off
            figures = beat.stop()
            figures["load_s"] = round(time.perf_counter() - t0, 2)
            loads[name] = figures
        results["load"] = loads
        default = wb.settings.model.default
        if wb.loaded_model is None or wb.loaded_model.name != default:
            window.load_model(default)
            wait_for(window.busy_changed)

        window.new_conversation()
        window.params.max_tokens.setValue(512)
        window.params.seed.setValue(1)
        window.params.temperature.setValue(0.8)
        window.prompt.setPlainText("Write a long story about a lighthouse keeper and a storm.")
        beat.start()
        window.send()
        done = wait_for(window.reply_finished)[0]
        stream = beat.stop()
        stream["completion_tokens"] = done.stats.completion_tokens
        stream["tokens_per_s"] = round(done.stats.tokens_per_s, 1)
        results["stream"] = stream

        results["markdown"] = bench_markdown(window)
        window.close()
        window.deleteLater()
        app.processEvents()
    results["cold_start"] = bench_cold_start()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
