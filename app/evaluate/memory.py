"""Peak memory while something runs: this process's resident set, sampled (Linux
`/proc/self/statm`; elsewhere the peak so far from `resource`, else None)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
INTERVAL_S = 0.05


def rss_bytes() -> int | None:
    try:
        return int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        try:
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
        except (ImportError, OSError):
            return None


class PeakMemory:
    """A context manager sampling the resident set every 50 ms on a thread; `peak_mb` is
    the highest seen (the model's weights are part of it: it is what the machine held)."""

    def __init__(self) -> None:
        self.peak = rss_bytes() or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        _t: type[BaseException] | None,
        _e: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak / 2**20, 1) if self.peak else None

    def _sample(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            self._take()

    def _take(self) -> None:
        now = rss_bytes()
        if now is not None and now > self.peak:
            self.peak = now
