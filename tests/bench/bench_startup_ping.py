"""Start-up as a desktop sees it: `python -m tests.bench.bench_startup_ping [runs]`.

A real Carrel window under Xvfb, pinged from outside the process the way a window manager
does (`_NET_WM_PING`: a client message the window's GUI thread answers by sending it back
to the root window). From the moment the window is mapped, one ping is in flight at a
time, every 20 ms, for `WATCH_S` seconds; a reply's latency is how long the GUI thread
could not answer. Printed as JSON: per run the longest latencies and how many passed
100 ms, and the median of the runs' worst. Issue 14 measured 0.36 s and 1.2 s blocks
before its fixes (GGUF headers read through a memory map while the window showed).

Needs Xvfb and xdotool (Debian `xvfb`, `xdotool`) and libX11; not collected by pytest.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WATCH_S = 8.0
INTERVAL_S = 0.02
SUBSTRUCTURE_NOTIFY = 1 << 19
SUBSTRUCTURE_REDIRECT = 1 << 20
CLIENT_MESSAGE = 33


class ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("client", ClientMessage), ("pad", ctypes.c_long * 24)]


class Pinger:
    """Sends `_NET_WM_PING` to one window and waits for its answer on the root window."""

    def __init__(self, display: str, window: int) -> None:
        x = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
        x.XSendEvent.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(XEvent)
        ]  # fmt: skip
        x.XFlush.argtypes = [ctypes.c_void_p]
        x.XPending.argtypes = [ctypes.c_void_p]
        x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
        x.XConnectionNumber.argtypes = [ctypes.c_void_p]
        self.x = x
        self.dpy = x.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open display {display}")
        self.root = x.XDefaultRootWindow(self.dpy)
        self.window = window
        self.protocols = x.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0)
        self.ping_atom = x.XInternAtom(self.dpy, b"_NET_WM_PING", 0)
        x.XSelectInput(self.dpy, self.root, SUBSTRUCTURE_NOTIFY | SUBSTRUCTURE_REDIRECT)
        self.fd = x.XConnectionNumber(self.dpy)
        self.n = 0

    def ping(self, timeout_s: float = 10.0) -> float:
        """Seconds until the window answered one ping (`timeout_s` if it never did)."""
        self.n += 1
        ev = XEvent()
        ev.client.type = CLIENT_MESSAGE
        ev.client.window = self.window
        ev.client.message_type = self.protocols
        ev.client.format = 32
        ev.client.data[0] = self.ping_atom
        ev.client.data[1] = self.n  # the "timestamp" the answer carries back
        ev.client.data[2] = self.window
        t0 = time.perf_counter()
        self.x.XSendEvent(self.dpy, self.window, 0, 0, ctypes.byref(ev))
        self.x.XFlush(self.dpy)
        while (left := t0 + timeout_s - time.perf_counter()) > 0:
            if not self.x.XPending(self.dpy):
                select.select([self.fd], [], [], left)
                continue
            got = XEvent()
            self.x.XNextEvent(self.dpy, ctypes.byref(got))
            c = got.client
            if got.type == CLIENT_MESSAGE and c.data[0] == self.ping_atom and c.data[1] == self.n:
                return time.perf_counter() - t0
        return timeout_s


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        number += os.read(read, 16)
    os.close(read)
    return xvfb, f":{int(number)}"


def one_run(display: str, checkout: Path = ROOT) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="carrel-ping-")
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "CARREL_HOME": home,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    t0 = time.perf_counter()
    carrel = subprocess.Popen([sys.executable, "-m", "app"], cwd=checkout, env=env)
    try:
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--name", "Carrel"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        shown_s = time.perf_counter() - t0
        pinger = Pinger(display, int(found.stdout.split()[0]))
        latencies: list[float] = []
        at: list[float] = []
        start = time.perf_counter()
        while time.perf_counter() - start < WATCH_S:
            at.append(time.perf_counter() - start)
            latencies.append(pinger.ping())
            time.sleep(INTERVAL_S)
    finally:
        carrel.terminate()
        carrel.wait(timeout=30)
    worst = sorted(zip(latencies, at, strict=True), reverse=True)[:3]
    return {
        "window_shown_s": round(shown_s, 2),
        "pings": len(latencies),
        "worst_ms_at_s": [[round(w * 1000), round(a, 2)] for w, a in worst],
        "over_100ms": sum(w > 0.1 for w in latencies),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
    }


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    worst = [r["worst_ms_at_s"][0][0] for r in results]
    return {
        "runs": results,
        "worst_ms_median": statistics.median(worst),
        "worst_ms_max": max(worst),
    }


def main() -> int:
    """`[runs] [reference checkout]`: with a reference (a worktree of an older commit,
    e.g. the one before issue 14), its runs are interleaved with this checkout's."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    reference = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    xvfb, display = start_xvfb()
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    try:
        for _ in range(runs):
            ours.append(one_run(display))
            if reference is not None:
                theirs.append(one_run(display, reference))
    finally:
        xvfb.terminate()
        xvfb.wait()
    out = {
        "machine": platform.machine(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "this": summary(ours),
    }
    if reference is not None:
        out["reference"] = {"checkout": str(reference), **summary(theirs)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
