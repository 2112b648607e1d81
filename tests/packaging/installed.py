"""Helpers for the tests of the built packages: where they are, a throw-away dpkg root, a
clean environment (what `env -i` leaves plus a fresh HOME), Xvfb, and a screenshot taken
from outside the app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = Path(os.environ["CARREL_PACKAGES"]) if os.environ.get("CARREL_PACKAGES") else None


def artifact(pattern: str) -> Path:
    assert PACKAGES is not None
    found = sorted(p for p in PACKAGES.glob(pattern) if "nomodel" not in p.name)
    assert found, f"no {pattern} in {PACKAGES}: run `make package` first"
    return found[-1]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a person's shell would give a freshly installed program: no venv, no Carrel
    settings, nothing of the test run's environment."""
    home.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


def dpkg_root(folder: Path) -> Path:
    """An empty system for `dpkg --root`: just dpkg's own database."""
    admin = folder / "var" / "lib" / "dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True, exist_ok=True)
    for name in ("status", "available"):
        (admin / name).touch()
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on the first free display from :140."""
    for n in range(140, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            proc = subprocess.Popen(
                ["Xvfb", f":{n}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 15
            while not Path(f"/tmp/.X11-unix/X{n}").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.05)  # waiting on an external process to come up
            else:
                return proc, f":{n}"
            proc.kill()
            proc.wait()
    raise RuntimeError("no free X display for Xvfb")


def wait_window(display: str, title: str, timeout: float) -> tuple[str, float]:
    """The id of the first visible window named `title`, and when it appeared
    (monotonic seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"],
            env={"DISPLAY": display, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        if found.returncode == 0 and found.stdout.split():
            return found.stdout.split()[0], time.monotonic()
        time.sleep(0.05)  # polling an external program's window
    raise TimeoutError(f"no window '{title}' on {display} within {timeout:.0f} s")


SHOOT = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv)
image = app.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
grid = [(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)]
colours = len({image.pixel(x, y) for x, y in grid})
print(image.width(), image.height(), colours)
"""


def screenshot(display: str, out: Path) -> tuple[int, int, int]:
    """The whole screen of `display` as a PNG, taken by another process (the venv's Qt);
    returns width, height and how many colours a grid of its pixels has."""
    done = subprocess.run(
        [sys.executable, "-c", SHOOT, str(out)],
        env={**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    width, height, colours = (int(x) for x in done.stdout.split()[-3:])
    return width, height, colours


def have(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)
