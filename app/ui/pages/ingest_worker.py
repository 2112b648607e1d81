"""`IngestWorker`: adds files and folders to a collection off the GUI thread."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from PySide6.QtCore import Signal

from app.rag.outcome import IngestReport, Progress
from app.rag.service import Documents
from app.ui.workers import Worker

# Batch progress reaches the GUI at most this often; file and done events always do.
PROGRESS_SECONDS = 0.1


class IngestWorker(Worker):
    """Runs `Documents.add(paths, collection)` on its own QThread.

    Signals: `progress(object)` with a copy of the ingest's `Progress` (files, pages,
    chunks, rate, ETA; at most every 100 ms during a file, and after every file),
    `result(object)` with the `IngestReport` (`cancelled` tells a stopped ingest),
    `failed(str)`, `finished()` last. `cancel()` may be called from any thread: the
    ingest stops between files or batches and leaves no file half indexed.
    """

    progress = Signal(object)

    def __init__(
        self,
        documents: Documents,
        paths: list[Path],
        collection: str,
        log_file: Path | None = None,
    ) -> None:
        super().__init__(log_file)
        self.documents = documents
        self.paths = list(paths)
        self.collection = collection
        self._cancel = threading.Event()
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def _tell(self, state: Progress) -> None:
        now = time.monotonic()
        if state.event == "batch" and now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        # The ingest keeps mutating its Progress: the GUI gets a snapshot.
        self.progress.emit(dataclasses.replace(state))

    def work(self) -> IngestReport:
        return self.documents.add(self.paths, self.collection, self._tell, self._cancel)


def describe_progress(p: Progress) -> str:
    """'3/10 files · 120 chunks · 28.5 chunks/s · ETA 12 s' for the progress line."""
    parts = [f"{p.files_done}/{p.files_total} files", f"{p.chunks} chunks"]
    if p.rate > 0:
        parts.append(f"{p.rate:.1f} chunks/s")
    if p.eta_s is not None and p.event != "done":
        parts.append(f"ETA {_duration(p.eta_s)}")
    if p.event == "indexing":
        parts.append("building the search index")
    elif p.current and p.event not in ("done", ""):
        parts.append(Path(p.current).name)
    return " · ".join(parts)


def describe_report(report: IngestReport) -> str:
    """'4 indexed, 1 skipped, 1 failed, 0 need OCR in 3.2 s' after an ingest."""
    head = "Cancelled: " if report.cancelled else ""
    return (
        f"{head}{report.count('indexed')} indexed, {report.count('unchanged')} skipped "
        f"(unchanged), {report.count('failed')} failed, {report.count('needs_ocr')} need OCR, "
        f"{report.count('removed')} removed in {report.seconds:.1f} s."
    )


def _duration(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
