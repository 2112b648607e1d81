"""`Job`: one reply run on a thread of its own, its events handed to the event loop.

The thread waits for the model (`ModelScheduler.use`), queues the reply on the model's
owner thread and forwards each event to an asyncio queue; the event loop never blocks on
llama.cpp. When the client goes away the job is cancelled, which stops the reply between
two tokens (llama-cpp-python's server checks for a gone client the same way).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from app.engine.backend import Event, Generation, GenerationParams
from app.engine.constraints import Constraints
from app.prompt import ChatMessage
from app.server.scheduler import ModelScheduler

_END = object()


@dataclass(frozen=True)
class Work:
    """What to generate and with which model."""

    model: str
    messages: list[ChatMessage]
    params: GenerationParams
    constraints: Constraints


class Job:
    """A reply in progress for one request; `cancel()` from any thread."""

    def __init__(self, scheduler: ModelScheduler, work: Work) -> None:
        self._scheduler = scheduler
        self._work = work
        self._cancelled = threading.Event()
        self._generation: Generation | None = None
        self._lock = threading.Lock()
        self.model = ""  # the model that answered, once known

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._generation is not None:
                self._generation.cancel()

    def run(self, emit: Callable[[object], None]) -> None:
        """On the job's thread: every event, then an exception if one ended it, then END."""
        w = self._work
        try:
            with self._scheduler.use(w.model) as backend:
                self.model = backend.name
                if self._cancelled.is_set():
                    return
                generation = backend.stream(w.messages, w.params, w.constraints)
                with self._lock:
                    self._generation = generation
                if self._cancelled.is_set():
                    generation.cancel()
                for event in generation:
                    emit(event)
        except BaseException as exc:
            emit(exc)
        finally:
            emit(_END)

    async def events(self) -> AsyncIterator[Event]:
        """The reply's events as they arrive; leaving early cancels the reply."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone (server shut down): nobody listens
                self.cancel()

        thread = threading.Thread(target=self.run, args=(emit,), name="server-job", daemon=True)
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            self.cancel()
