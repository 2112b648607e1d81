"""Printing helpers shared by the subcommands (the texts themselves come from the core's
`describe()` methods, the same in the window)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, Protocol

from app.engine.backend import Done, Event, Token


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


class ProgressLine:
    """A line on standard error redrawn in place (`line(text)`); `end()` moves past it if
    anything was drawn."""

    def __init__(self) -> None:
        self.drawn = False

    def __call__(self, text: str) -> None:
        sys.stderr.write(f"\r{text}   ")
        sys.stderr.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


class _Cancellable(Protocol):
    def __iter__(self) -> Iterator[Event]: ...
    def cancel(self) -> None: ...


def stream_reply(reply: _Cancellable, *, quiet: bool) -> Done | None:
    """Print a reply's tokens as they come (unless `quiet`) and return its `Done`; Ctrl+C
    stops it and keeps what was generated (the reply still ends with a `Done`)."""
    done: Done | None = None
    try:
        for event in reply:
            if isinstance(event, Token) and not quiet:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Done):
                done = event
    except KeyboardInterrupt:
        reply.cancel()
        for event in reply:
            if isinstance(event, Done):
                done = event
    return done
