"""What Carrel's child processes (the HNSW build, the embedder's export) share: how they are
started (this interpreter with `-m`, or the frozen app, which has no `-m`, given a flag
that `app/__main__.py` dispatches on) and what each does first (die with its parent)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys


def command(module: str, frozen_flag: str, args: list[str]) -> list[str]:
    """The command line that runs `module`'s child entry point with `args`."""
    if getattr(sys, "frozen", False):
        return [sys.executable, frozen_flag, *args]
    return [sys.executable, "-m", module, *args]


def tied_to(parent: int) -> bool:
    """In a child: ask Linux to kill this process when the thread that started it ends, so
    a killed app leaves no child running; False if `parent` is gone already (this process
    was handed to another), and then the child should stop at once."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    return os.getppid() == parent
