"""Workers: blocking core calls run on their own QThread and talk to the GUI by signals only.

A worker never touches a widget. Each one emits `result` or `failed(str)` and then, always
last, `finished`. `start_worker` moves a worker to a fresh QThread and starts it;
`WorkerSet` keeps the running ones alive and stops them all when the window closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from app.answer_steps import reporting
from app.citation import Citation
from app.engine.backend import Done, Token
from app.errors import CarrelError
from app.logs import unexpected_message
from app.replies import Reply
from app.store import Message
from app.workbench import Workbench

log = logging.getLogger(__name__)

# Streamed text is handed to the GUI at most this often: enough to look live, few enough
# signals that the GUI thread never falls behind.
BATCH_SECONDS = 0.030


class Worker(QObject):
    """Base of the workers: runs `work()` on its thread and reports how it went.

    Signals: `result(object)` with the return value, `failed(str)` with a message for a
    person (a `CarrelError`'s own, or "Unexpected error — details in <log>" for a bug,
    whose traceback is logged), then `finished()` always last.
    """

    result = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, log_file: Path | None = None) -> None:
        super().__init__()
        self.log_file = log_file

    def work(self) -> Any:
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        try:
            value = self.work()
        except CarrelError as exc:
            self.failed.emit(exc.message)
        except Exception as exc:
            log.exception("Unexpected error in %s", type(self).__name__)
            self.failed.emit(unexpected_message(self.log_file, exc))
        else:
            self.result.emit(value)
        finally:
            app = QCoreApplication.instance()
            if app is not None:  # hand the object back so the GUI thread can delete it
                self.moveToThread(app.thread())
            self.finished.emit()


class TaskWorker(Worker):
    """Runs one blocking call (load a model, list the models) off the GUI thread.

    Signals: `result(object)`, `failed(str)`, `finished()` (see `Worker`).
    """

    def __init__(self, fn: Callable[[], Any], log_file: Path | None = None) -> None:
        super().__init__(log_file)
        self._fn = fn

    def work(self) -> Any:
        return self._fn()


class GenerationWorker(Worker):
    """Streams one reply of `Workbench.reply` (`ask_remote` asks the conversation's remote
    endpoint), or of `start` when given (a regenerate, continue or edit of
    `Workbench.turns`), and forwards its text in ~30 ms batches.

    Signals: `step(object)` with each `app.answer_steps.Step` of a document answer
    (searching, reading) before its first word, `tokens(str)` with the text that arrived
    since the last batch, `result(object)` with the final `Done` (its `stats.stopped`
    tells a stopped reply), `failed(str)`, `finished()`. `cancel()` may be called from any thread.
    """

    step = Signal(object)
    tokens = Signal(str)

    def __init__(
        self,
        workbench: Workbench,
        conversation_id: int,
        text: str,
        overrides: dict[str, Any] | None = None,
        log_file: Path | None = None,
        *,
        ask_remote: bool = False,
        start: Callable[[], Reply] | None = None,
    ) -> None:
        super().__init__(log_file)
        self._wb = workbench
        self._start = start
        self._ask_remote = ask_remote
        self._conversation_id = conversation_id
        self._text = text
        self._overrides = overrides
        self._lock = threading.Lock()
        self._reply: Reply | None = None
        self._cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            reply = self._reply
        if reply is not None:
            reply.cancel()

    @property
    def citations(self) -> list[Citation]:
        """The numbered sources the reply was given (none before it started)."""
        with self._lock:
            return list(self._reply.citations) if self._reply is not None else []

    @property
    def message(self) -> Message | None:
        """The message the reply was written to, once it ended."""
        with self._lock:
            return self._reply.message if self._reply is not None else None

    def work(self) -> Done:
        with reporting(self.step.emit):
            if self._start is not None:
                reply = self._start()
            else:
                reply = self._wb.reply(
                    self._conversation_id, self._text, self._overrides, ask_remote=self._ask_remote
                )
        with self._lock:
            self._reply = reply
            cancelled = self._cancelled
        if cancelled:
            reply.cancel()
        pending: list[str] = []
        last = time.monotonic()
        done: Done | None = None
        for event in reply:
            if isinstance(event, Token):
                pending.append(event.text)
                now = time.monotonic()
                if now - last >= BATCH_SECONDS:
                    self.tokens.emit("".join(pending))
                    pending.clear()
                    last = now
            elif isinstance(event, Done):
                done = event
        if pending:
            self.tokens.emit("".join(pending))
        if done is None:  # the engine always ends with Done; be safe anyway
            raise RuntimeError("the reply ended without a Done event")
        return done


def start_worker(worker: Worker) -> QThread:
    """Move `worker` to a new QThread, run it there, and stop the thread when it finishes."""
    thread = QThread()
    thread.setObjectName(type(worker).__name__)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


class WorkerSet(QObject):
    """The workers a window has running: keeps them referenced until their thread ends,
    and at shutdown cancels generation and waits for every thread. No signals."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: list[tuple[QThread, Worker]] = []
        self._closed = False

    def start(self, worker: Worker) -> Worker:
        """Run `worker` on its own thread; after `shutdown` nothing starts any more (a
        result handler queued before the shutdown may still ask), so no thread outlives
        the window that owns it."""
        if self._closed:
            return worker
        thread = start_worker(worker)
        self._running.append((thread, worker))
        thread.finished.connect(self._reap)
        return worker

    @Slot()
    def _reap(self) -> None:
        self._running = [(t, w) for t, w in self._running if not t.isFinished()]

    def __len__(self) -> int:
        return len(self._running)

    def shutdown(self) -> None:
        self._closed = True
        for _thread, worker in self._running:
            if isinstance(worker, GenerationWorker):
                worker.cancel()
        for thread, _worker in self._running:
            thread.quit()
            thread.wait()
        self._running.clear()
