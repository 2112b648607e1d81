"""The one door from the command line to the GUI: checks for a display, then starts Qt."""

from __future__ import annotations

import os
import sys

from app import netguard


def has_display() -> bool:
    if sys.platform != "linux":
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run() -> int:
    if not has_display():
        print(
            "carrel: no display found (DISPLAY and WAYLAND_DISPLAY are unset); "
            "use the command line instead, e.g. `carrel chat --prompt 'Hello'` "
            "(see `carrel --help`).",
            file=sys.stderr,
        )
        return 2
    netguard.install()
    from app.ui.launch import main

    return main()
