"""A virtual X display for the screenshot scripts (`tests/screenshots*.py`): started on a
display of the script's own, waited for until its socket is there."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path


def start_xvfb(display: str, size: str) -> subprocess.Popen[bytes]:
    """Xvfb on `display` (":99") with one screen of `size` ("1440x900"), 24-bit."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is missing: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1")
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("Xvfb did not start")
        time.sleep(0.05)  # a script waiting on an external process, not a test
    return proc
