"""Whether huggingface_hub may make requests: off by default, whatever the environment
said when it was imported, and lifted only while an action of `HubClient.online()` runs.
The person's own `HF_HUB_OFFLINE` (read by `offline_by_environment`) switches the hub off
for Carrel altogether."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

TRUE = ("1", "on", "yes", "true")


def offline_by_environment() -> bool:
    """Whether `HF_HUB_OFFLINE` (huggingface_hub's own switch) is set in the environment."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE


_online_lock = threading.Lock()
_online_count = 0


def hub_flag_offline() -> None:
    """huggingface_hub offline outside actions, whatever the environment said when it was
    imported (5 ms: its constants module only)."""
    from huggingface_hub import constants

    with _online_lock:
        if _online_count == 0:
            constants.HF_HUB_OFFLINE = True


@contextmanager
def hub_flag_online() -> Iterator[None]:
    """Let huggingface_hub make requests while any action is inside this block."""
    global _online_count
    from huggingface_hub import constants

    with _online_lock:
        _online_count += 1
        constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        with _online_lock:
            _online_count -= 1
            if _online_count == 0:
                constants.HF_HUB_OFFLINE = True
