"""`RequestLog`: what the server answered, for the window's live log and the terminal.

One `Entry` per request: when, which route, the model, tokens in and out, the status and
how long it took. Listeners are called on the server's threads; a face that shows entries
moves them to its own thread (the GUI with a signal).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

KEEP = 500


@dataclass
class Entry:
    """One request. `finish`/`fail` fill it in; `close` stamps its duration."""

    method: str
    path: str
    at: float = field(default_factory=time.time)
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    status: int = 200
    duration_ms: float = 0.0
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def finish(self, model: str, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

    def fail(self, status: int) -> None:
        self.status = status

    def describe(self) -> str:
        """One line: '12:03:04 POST /v1/chat/completions 200 SmolLM2 31+64 tok 812 ms'."""
        when = time.strftime("%H:%M:%S", time.localtime(self.at))
        tokens = f" {self.prompt_tokens}+{self.completion_tokens} tok" if self.model else ""
        model = f" {self.model}" if self.model else ""
        took = f"{self.duration_ms:.0f} ms"
        return f"{when} {self.method} {self.path} {self.status}{model}{tokens} {took}"


class RequestLog:
    """The last `KEEP` requests; `listeners` are told of each as it ends."""

    def __init__(self) -> None:
        self._entries: deque[Entry] = deque(maxlen=KEEP)
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Entry], None]] = []

    def close(self, entry: Entry) -> None:
        entry.duration_ms = (time.perf_counter() - entry._t0) * 1000
        with self._lock:
            self._entries.append(entry)
        for listener in list(self.listeners):
            listener(entry)

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)
