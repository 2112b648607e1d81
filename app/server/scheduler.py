"""`ModelScheduler`: the server's requests onto the Workbench's one model owner.

The Workbench holds one loaded llama.cpp model on one owner thread, shared with the GUI
and the CLI; this class never makes a model of its own. A request names a model: when it
is the loaded one, loaded with the model's saved load options, the request joins the owner
thread's queue; when it is another (or the same one loaded with other options, e.g. a
conversation's context length), the scheduler waits until no server request is using the
loaded one *and* no reply the person asked for in the window is being written (a switch
never stops the person's reply: it queues behind it), then asks the Workbench to load the
model with its saved options (which closes the old one first, so a reload never holds two
models in memory; LM Studio's TTL reload doubled memory, lmstudio-bug-tracker#634, and its
JIT loads ignored per-model settings, #1463). A model that would not fit raises the
core's `ModelTooLargeError` instead of loading. After `idle_s` without a request, a model
the server loaded is unloaded; one the person loaded in the window is left alone.

Blocking calls: run them off the event loop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.engine.llama import LlamaBackend
from app.errors import NoModelLoadedError, ReplyInProgressError
from app.library.load_options import LoadOptions
from app.server.errors import ApiError
from app.workbench import Workbench

log = logging.getLogger(__name__)

# Seconds between two looks at a reply of the person's that a model switch waits for.
POLL_S = 0.05


class ModelScheduler:
    """Loads on demand, counts requests in flight, unloads when idle (see the module)."""

    def __init__(
        self, wb: Workbench, *, default: str = "", idle_s: float = 600.0, max_pending: int = 64
    ) -> None:
        self._wb = wb
        self.default = default
        self.idle_s = idle_s
        self.max_pending = max_pending
        self._cond = threading.Condition()
        self._pending = 0  # waiting for a model or using one
        self._in_flight = 0  # holding the loaded model
        self._last_used = time.monotonic()
        self._loaded_here = ""  # the model this scheduler loaded, if still loaded
        self._closed = False
        self._idle = threading.Thread(target=self._watch_idle, name="server-idle", daemon=True)
        self._idle.start()

    @property
    def loaded(self) -> str:
        info = self._wb.loaded_model
        return info.name if info is not None else ""

    def resolve(self, model: str) -> str:
        """The installed model a request's `model` names (empty or "default": the loaded
        one, else the server's default, else the settings' default); raises the core's
        `ModelNotFoundError` for a name that is not installed."""
        if model in ("", "default"):
            model = self.loaded or self.default or self._wb.settings.model.default
        return self._wb.registry.resolve(model).name

    @contextmanager
    def use(self, model: str) -> Iterator[LlamaBackend]:
        """The loaded backend for `model`, loading it first if needed; held until the
        block ends, so no other request swaps it out underneath."""
        with self._cond:
            if self._closed:
                raise ApiError(503, "The server is shutting down.", code="shutting_down")
            if self._pending >= self.max_pending:
                raise ApiError(
                    429,
                    f"{self._pending} requests are already waiting for the model; "
                    "try again in a moment.",
                    code="too_many_requests",
                )
            self._pending += 1
        try:
            backend = self._acquire(model)
        except BaseException:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()
            raise
        try:
            yield backend
        finally:
            with self._cond:
                self._in_flight -= 1
                self._pending -= 1
                self._last_used = time.monotonic()
                self._cond.notify_all()

    def set_idle(self, seconds: float) -> None:
        """Change the idle time while serving (the window's setting)."""
        with self._cond:
            self.idle_s = seconds
            self._cond.notify_all()

    def _acquire(self, model: str) -> LlamaBackend:
        name = self.resolve(model)
        wanted = self._wb.load_options(name)
        with self._cond:
            while True:
                if self._closed:
                    raise ApiError(503, "The server is shutting down.", code="shutting_down")
                backend = self._wb.backend
                if backend is not None and _loaded_as(backend, name, wanted):
                    self._in_flight += 1
                    return backend
                # Another model, or this one with other load options than its saved ones:
                # (re)load once nobody uses the loaded one — neither a request of the
                # server's nor a reply the person is reading in the window.
                if self._in_flight > 0 or self._wb.replying:
                    self._cond.wait(timeout=POLL_S)
                    continue
                try:
                    self._load(name, backend)
                except ReplyInProgressError:  # the person sent a message just now
                    self._cond.wait(timeout=POLL_S)
                    continue
                loaded = self._wb.backend
                if loaded is None:
                    raise NoModelLoadedError
                self._in_flight += 1
                return loaded

    def _load(self, name: str, backend: LlamaBackend | None) -> None:
        """Load `name` with its saved options, closing the loaded model first (so two are
        never held in memory). A reload of the person's model keeps it theirs: it is not
        unloaded when the server goes idle."""
        log.info("Loading %s for the server", name)
        self._wb.load_model(name, warmup=True, interrupt=False)
        if backend is None or backend.info.name != name:
            self._loaded_here = name

    def close(self) -> None:
        """Stop the idle watch; unload the model if this scheduler loaded it."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._idle.join(timeout=5)
        self._unload_own()

    # idle unload ----------------------------------------------------------------------

    def _watch_idle(self) -> None:
        with self._cond:
            while not self._closed:
                timeout: float | None = None  # woken by the next request's end
                if self._loaded_here and self._in_flight == 0:
                    idle = time.monotonic() - self._last_used
                    if idle >= self.idle_s:
                        log.info("Unloading %s after %.0f s idle", self._loaded_here, idle)
                        self._unload_own_locked()
                        continue
                    timeout = self.idle_s - idle
                self._cond.wait(timeout=timeout)

    def _unload_own(self) -> None:
        with self._cond:
            self._unload_own_locked()

    def _unload_own_locked(self) -> None:
        if self._wb.replying:  # the person is using it in the window: later
            self._last_used = time.monotonic()
            return
        if self._loaded_here and self.loaded == self._loaded_here and self._in_flight == 0:
            self._wb.unload()
        self._loaded_here = ""


def _loaded_as(backend: LlamaBackend, name: str, wanted: LoadOptions) -> bool:
    """`backend` is model `name` loaded with the options `wanted` (warm-up aside)."""
    if backend.info.name != name:
        return False
    return dataclasses.replace(backend.options, warmup=False) == wanted
