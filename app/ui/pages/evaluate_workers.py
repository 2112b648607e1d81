"""The Evaluate page's long work off the GUI thread: a run (with progress), and any other
blocking evaluation call (import, draft, perplexity) through `TaskWorker`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal

from app.ui.workers import Worker

if TYPE_CHECKING:
    from app.evaluate.runner import RunJob


class RunWorker(Worker):
    """Runs (or resumes) one evaluation run.

    Signals: `progress(object)` with each `RunProgress`; `result(object)` with "finished"
    or "cancelled"; `failed(str)`; `finished()`. `cancel()` from any thread stops it
    between answers (the answer in progress is not kept).
    """

    progress = Signal(object)

    def __init__(self, job: RunJob, log_file: Path | None = None) -> None:
        super().__init__(log_file)
        self.job = job
        job.on_progress = self.progress.emit

    def cancel(self) -> None:
        self.job.cancel()

    def work(self) -> Any:
        return self.job.execute()
