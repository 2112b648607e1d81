"""llama.cpp's and ggml's own log, captured through `llama_log_set`.

Where a model's layers went is what llama.cpp says it did ("offloaded 31/31 layers to
GPU", "Vulkan0 model buffer size = …"), not what Carrel asked for; so the engine reads it
from here. One callback serves the whole process (llama.cpp has one log): every line goes
to Python logging at DEBUG and to each capture open at the time. The last lines are kept
so that what the backends said while starting ("ggml_vulkan: No devices found.") can be
read later.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("llama.cpp")

# ggml's levels in the llama.cpp this version vendors (ggml.h): NONE 0, DEBUG 1, INFO 2,
# WARN 3, ERROR 4, CONT 5 (continues the previous line). llama-cpp-python's own logger
# still maps them one off, so its callback is replaced, not wrapped.
CONT = 5
_RECENT = 400
_FIRST = 200

_lock = threading.Lock()
_captures: list[list[str]] = []
_recent: collections.deque[str] = collections.deque(maxlen=_RECENT)
_first: list[str] = []
_partial: list[str] = []
_callback: Any = None


def _on_log(level: int, text: bytes, _user_data: Any) -> None:
    piece = text.decode("utf-8", "replace") if text else ""
    with _lock:
        _partial.append(piece)
        joined = "".join(_partial)
        if "\n" not in joined:
            return
        *lines, rest = joined.split("\n")
        _partial[:] = [rest] if rest else []
        for line in lines:
            _recent.append(line)
            if len(_first) < _FIRST:
                _first.append(line)
            for capture in _captures:
                capture.append(line)
    for line in lines:
        log.debug("%s", line)


def install() -> None:
    """Route llama.cpp's log here (once per process; after `import llama_cpp`, whose own
    callback it replaces)."""
    global _callback
    if _callback is not None:
        return
    import llama_cpp

    _callback = llama_cpp.llama_log_callback(_on_log)
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


@contextmanager
def capture() -> Iterator[list[str]]:
    """The lines llama.cpp logs while the block runs (from any thread)."""
    install()
    lines: list[str] = []
    with _lock:
        _captures.append(lines)
    try:
        yield lines
    finally:
        with _lock:  # by identity: two captures may hold equal lines
            _captures[:] = [c for c in _captures if c is not lines]


def recent() -> list[str]:
    """The last few hundred lines llama.cpp logged in this process."""
    with _lock:
        return list(_recent)


def first() -> list[str]:
    """The first lines logged after `install()`: what the backends said while starting
    ("ggml_vulkan: No devices found.")."""
    with _lock:
        return list(_first)
