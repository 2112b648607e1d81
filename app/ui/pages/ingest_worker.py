"""`IngestWorker`: adds files and folders to a collection off the GUI thread."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from PySide6.QtCore import Signal

from app.rag.outcome import IngestProgress, IngestReport
from app.rag.service import Documents
from app.ui.workers import Worker

# Batch progress reaches the GUI at most this often; file and done events always do.
PROGRESS_SECONDS = 0.1


class IngestWorker(Worker):
    """Runs `Documents.add(paths, collection)` on its own QThread.

    Signals: `progress(object)` with a copy of the ingest's `IngestProgress` (files, pages,
    chunks, rate, ETA; at most every 100 ms during a file, and after every file; and
    each "files" event, a file's state moving, the "reading" ones from the ingest's reader
    thread),
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

    def _tell(self, state: IngestProgress) -> None:
        now = time.monotonic()
        if state.event == "batch" and now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        # The ingest keeps mutating its progress: the GUI gets a snapshot.
        self.progress.emit(dataclasses.replace(state))

    def work(self) -> IngestReport:
        return self.documents.add(self.paths, self.collection, self._tell, self._cancel)
