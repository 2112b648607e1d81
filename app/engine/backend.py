"""The `Backend` protocol every generator implements, and the events a reply streams.

A backend is given `ChatMessage`s (`app.prompt`, where a reply's messages are built).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.config import SamplingSettings
from app.prompt import ChatMessage


@dataclass
class GenerationParams(SamplingSettings):
    """Sampling for one reply: the settings' defaults with a conversation's overrides;
    `seed=-1` draws a fresh seed."""

    @classmethod
    def from_settings(
        cls, s: SamplingSettings, overrides: dict[str, Any] | None = None
    ) -> GenerationParams:
        values = dataclasses.asdict(s)
        names = {f.name for f in dataclasses.fields(cls)}
        values.update({k: v for k, v in (overrides or {}).items() if k in names})
        return cls(**{k: v for k, v in values.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class GenerationStats:
    """Figures of one reply. `dropped_turns` counts old turns left out to fit the context."""

    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float = 0.0
    tokens_per_s: float = 0.0
    total_ms: float = 0.0
    stopped: bool = False
    finish_reason: str = ""
    dropped_turns: int = 0
    n_ctx: int = 0
    seed: int = -1
    # Who answered: the endpoint's host (empty on this device) and the chat's badge.
    endpoint: str = ""
    badge: str = "on-device"
    fallback_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Token:
    """A piece of the reply's text as it arrives."""

    text: str


@dataclass(frozen=True)
class Done:
    """The reply has ended (finished, hit its limit, or was stopped)."""

    text: str
    stats: GenerationStats = field(default_factory=GenerationStats)


Event = Token | Done


class Generation(Iterator[Event]):
    """A reply in progress: iterate it for events; `cancel()` from any thread stops it
    between two tokens, and the iteration then ends with a `Done` marked stopped.

    Producers `put` events (or an exception, re-raised in the consumer) and `close()`.
    """

    _END = object()

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._cancel = threading.Event()
        self._produced = threading.Event()
        self._ended = False

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def put(self, item: Event | BaseException) -> None:
        self._queue.put(item)

    def close(self) -> None:
        self._produced.set()
        self._queue.put(self._END)

    @property
    def produced(self) -> bool:
        """The producer is done with it (every event is queued): the model that made it
        may be closed without cutting it short."""
        return self._produced.is_set()

    def __iter__(self) -> Generation:
        return self

    def __next__(self) -> Event:
        if self._ended:
            raise StopIteration
        item = self._queue.get()
        if item is self._END:
            self._ended = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        assert isinstance(item, Token | Done)
        return item


class InFlight:
    """Generations not yet produced, added and asked about from any thread: the person's
    replies, which the local server waits for before it swaps the model under them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Generation] = []

    def add(self, generation: Generation) -> Generation:
        with self._lock:
            self._items = [g for g in self._items if not g.produced] + [generation]
        return generation

    def __bool__(self) -> bool:
        with self._lock:
            self._items = [g for g in self._items if not g.produced]
            return bool(self._items)


class Backend(Protocol):
    """Something that turns a conversation into a streamed reply.

    `stream` returns at once; the work happens elsewhere (a model's owner thread, a
    remote server) and arrives as events. `close` releases the model or connection.
    """

    name: str

    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Generation: ...

    def close(self) -> None: ...
