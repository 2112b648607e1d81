"""`Router`: which model answers, by the conversation's route.

- local only (the default): the on-device model, and nothing may leave.
- local first: the on-device model; the remote endpoint when it fails (no model, out of
  memory, the prompt exceeds its context) or when the person asks for the remote model.
- remote first: the remote endpoint; the on-device model when the remote fails, the
  machine is offline, the person refuses the request, or the policy keeps it on device.

A fallback happens only before the first token; every reply says who answered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.engine.backend import Backend, Done, Generation, GenerationParams, Token
from app.errors import CarrelError, NoModelLoadedError
from app.privacy.errors import OnDeviceOnlyError
from app.prompt import Prompt

if TYPE_CHECKING:  # openai takes 0.3 s to import: only when a remote is used
    from app.engine.remote import RemoteBackend

log = logging.getLogger(__name__)

ON_DEVICE = "on-device"


class Route(StrEnum):
    """A conversation's routing policy."""

    LOCAL_ONLY = "local-only"
    LOCAL_FIRST = "local-first"
    REMOTE_FIRST = "remote-first"


@dataclass(frozen=True)
class Answerer:
    """Who answered a reply: the model, where it ran, the badge the chat shows, and why
    a fallback happened (empty when the first choice answered)."""

    model: str
    endpoint: str
    badge: str
    fallback_reason: str = ""


class RoutedGeneration(Generation):
    """A reply that may switch from one backend to another before its first token;
    `answered_by` is set before `Done` arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.answered_by: Answerer | None = None
        self._inner: Generation | None = None
        self._inner_lock = threading.Lock()

    def cancel(self) -> None:
        super().cancel()
        with self._inner_lock:
            if self._inner is not None:
                self._inner.cancel()

    def _follow(self, inner: Generation) -> None:
        with self._inner_lock:
            self._inner = inner
        if self.cancelled:
            inner.cancel()


class _AfterTokensError(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Router:
    """Chooses, per reply, the local or the remote backend for a `Prompt`: the local model
    is sent the prompt's messages, the remote backend the prompt itself (its gate redacts
    and shows its parts); either way each passage is in the request once."""

    def __init__(
        self,
        local: Backend | None,
        remote: RemoteBackend | None = None,
        route: Route = Route.LOCAL_ONLY,
    ) -> None:
        self.local = local
        self.remote = remote
        self.route = route

    @property
    def name(self) -> str:
        return self.local.name if self.local is not None else "no model"

    def close(self) -> None:
        """The router owns neither backend; their owner closes them."""

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        *,
        conversation_id: int | None = None,
        ask_remote: bool = False,
    ) -> RoutedGeneration:
        if ask_remote and (self.route == Route.LOCAL_ONLY or self.remote is None):
            raise CarrelError(
                "This conversation is set to on-device only, so nothing can be sent. Switch "
                "its route to 'local first' and enable a remote endpoint to ask one."
            )
        out = RoutedGeneration()
        args = (prompt, params, conversation_id)
        if self.route == Route.LOCAL_ONLY or self.remote is None:
            order = ["local"]
        elif self.route == Route.REMOTE_FIRST or ask_remote:
            order = ["remote", "local"] if not ask_remote else ["remote"]
        else:
            order = ["local", "remote"]
        worker = threading.Thread(
            target=self._run, args=(order, args, out), name="router", daemon=True
        )
        worker.start()
        return out

    # worker thread -------------------------------------------------------------------

    def _run(
        self,
        order: list[str],
        args: tuple[Prompt, GenerationParams, int | None],
        out: RoutedGeneration,
    ) -> None:
        reason = ""
        try:
            for i, which in enumerate(order):
                try:
                    done = self._attempt(which, args, out, reason)
                except _AfterTokensError as exc:
                    out.put(exc.error)
                    return
                except Exception as exc:
                    if i == len(order) - 1 or not self._may_fall_back(which, exc):
                        out.put(exc)
                        return
                    reason = f"{which} failed: {exc}"
                    log.info("Falling back: %s", reason)
                    continue
                out.put(done)
                return
        finally:
            out.close()

    def _may_fall_back(self, which: str, exc: BaseException) -> bool:
        if isinstance(exc, OnDeviceOnlyError):
            return exc.run_locally
        if which == "local":
            # No model, out of memory, context exceeded, a crash: all may go remote.
            return isinstance(exc, Exception)
        return isinstance(exc, CarrelError | OSError)

    def _attempt(
        self,
        which: str,
        args: tuple[Prompt, GenerationParams, int | None],
        out: RoutedGeneration,
        reason: str,
    ) -> Done:
        prompt, params, conversation_id = args
        start: Callable[[], Generation]
        if which == "local":
            local = self.local
            if local is None:
                raise NoModelLoadedError
            start = lambda: local.stream(prompt.messages(), params)  # noqa: E731
            answerer = Answerer(local.name, ON_DEVICE, ON_DEVICE, reason)
        else:
            remote = self.remote
            assert remote is not None
            e = remote.endpoint
            start = lambda: remote.stream(  # noqa: E731
                prompt, params, conversation_id=conversation_id
            )
            answerer = Answerer(e.model, e.base_url, e.badge, reason)
        if out.cancelled:
            raise CarrelError("The reply was stopped before it started.")
        inner = start()
        out._follow(inner)
        emitted = False
        try:
            for event in inner:
                if isinstance(event, Token):
                    emitted = True
                    out.put(event)
                else:
                    out.answered_by = answerer
                    return event
        except Exception as exc:
            if emitted:
                raise _AfterTokensError(exc) from exc
            raise
        raise CarrelError(f"The {which} model ended without a reply.")
