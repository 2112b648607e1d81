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

# Start, batch and file events (the file being read in, passages embedded, files
# settled) reach the GUI at most this often; indexing, waiting and done always do.
PROGRESS_SECONDS = 0.1
# Files' states ("files" events) are held and sent together at most this often: a folder
# of small files moves thousands of them a second, and a signal apiece cost the GUI
# thread, and the ingest waiting for the GIL, more than the list's change was worth.
STATES_SECONDS = 0.05


class IngestWorker(Worker):
    """Runs `Documents.add(paths, collection)` on its own QThread.

    Signals: `progress(object)` with a copy of the ingest's `IngestProgress` (files, pages,
    chunks, rate, ETA; at most every 100 ms while files are embedded or settle; and
    "files" events, files' states moving, held for up to 50 ms and sent in order with the
    files of one state together, before any other event),
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
        # "reading" is told from the reader's thread, the rest from the ingest's.
        self._lock = threading.Lock()
        self._held: list[tuple[str, list[str]]] = []  # states not sent yet: (state, files)
        self._states_sent = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def _tell(self, state: IngestProgress) -> None:
        now = time.monotonic()
        with self._lock:  # signals leave in the order the ingest told them
            if state.event == "files":
                self._hold(state)
            states_due = now - self._states_sent >= STATES_SECONDS
            if state.event == "files" or (
                state.event in ("start", "batch", "file") and now - self._last < PROGRESS_SECONDS
            ):
                if states_due:
                    self._send_held(now)
                return
            self._send_held(now)
            self._last = now
            # The ingest keeps mutating its progress: the GUI gets a snapshot.
            self.progress.emit(dataclasses.replace(state))

    def _hold(self, moved: IngestProgress) -> None:
        """Keep a "files" event to send later, with the last one held if it moved its
        files to the same state (each file's states stay in the order told)."""
        if self._held and self._held[-1][0] == moved.file_state:
            self._held[-1][1].extend(moved.sources)
        else:
            self._held.append((moved.file_state, list(moved.sources)))

    def _send_held(self, now: float) -> None:
        if not self._held:
            return
        held, self._held = self._held, []
        self._states_sent = now
        for state, sources in held:
            self.progress.emit(
                IngestProgress(event="files", sources=tuple(sources), file_state=state)
            )

    def work(self) -> IngestReport:
        return self.documents.add(self.paths, self.collection, self._tell, self._cancel)
