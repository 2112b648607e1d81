"""The installed app against the source install, in the same run, interleaved: time from
start to the first window (under Xvfb) and `carrel self-check`; and the package sizes from
`make package`'s build.json files.

python -m tests.bench.bench_package [--packages dist/packages] [--runs 5] [--checks 2]

The .deb is installed with dpkg into a throw-away root; the source install is this
checkout's `.venv/bin/carrel`. Every run starts with a fresh HOME (settings, database and
logs are created, as on a first start) and no Carrel variable in the environment. The
first run of each is also given apart: it is the nearest to a cold page cache this shared
machine allows (the caches are not dropped). A window counts as shown when xdotool sees it
mapped; each run is ended with Ctrl+Q. Prints one JSON summary with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.packaging.installed import ROOT, clean_env, dpkg_root, start_xvfb, wait_window


def first_window(program: Path, home: Path, display: str) -> float:
    started = time.monotonic()
    app = subprocess.Popen(
        [str(program)],
        env=clean_env(home, DISPLAY=display),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        window, shown = wait_window(display, "Carrel", timeout=180)
        x = {"env": {"DISPLAY": display, "PATH": "/usr/bin:/bin"}, "check": True}
        subprocess.run(["xdotool", "windowfocus", "--sync", window], **x)  # type: ignore[call-overload]
        subprocess.run(["xdotool", "key", "ctrl+q"], **x)  # type: ignore[call-overload]
        app.wait(timeout=120)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    return shown - started


def self_check(program: Path, home: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [str(program), "self-check"], env=clean_env(home), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{program} self-check failed:\n{done.stdout}{done.stderr}")
    return time.monotonic() - started


def sizes(packages: Path) -> dict[str, Any]:
    out = {}
    for name in ("build.json", "build-nomodel.json"):
        path = packages / name
        if path.exists():
            data = json.loads(path.read_text())
            out[data["variant"]] = {
                "app_mb": round(data["app_bytes"] / 1e6, 1),
                "tarball_mb": round(data["tarball"]["bytes"] / 1e6, 1),
                "deb_mb": round(data["deb"]["bytes"] / 1e6, 1),
                "build_s": data["total_s"],
                "pyinstaller_s": data["pyinstaller_s"],
                "biggest_mb": {k: round(v / 1e6, 1) for k, v in data["biggest"][:8]},
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=Path, default=ROOT / "dist" / "packages")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checks", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-package-"))
    debs = sorted(p for p in args.packages.glob("carrel_*.deb") if "nomodel" not in p.name)
    root = dpkg_root(work / "root")
    subprocess.run(
        ["dpkg", f"--root={root}", "--force-depends", "-i", str(debs[-1])],
        check=True,
        capture_output=True,
    )
    programs = {
        "installed": root / "usr" / "bin" / "carrel",
        "source": ROOT / ".venv" / "bin" / "carrel",
    }
    windows: dict[str, list[float]] = {k: [] for k in programs}
    checks: dict[str, list[float]] = {k: [] for k in programs}
    xvfb, display = start_xvfb()
    try:
        for n in range(args.runs):
            for name, program in programs.items():
                windows[name].append(first_window(program, work / f"home-{name}-{n}", display))
        for n in range(args.checks):
            for name, program in programs.items():
                checks[name].append(self_check(program, work / f"check-{name}-{n}"))
    finally:
        xvfb.kill()
        xvfb.wait()
        subprocess.run(["rm", "-rf", str(work)], check=False)
    result = {
        "first_window_s": {
            k: {"first": round(v[0], 2), "median_rest": round(statistics.median(v[1:] or v), 2)}
            for k, v in windows.items()
        },
        "first_window_ratio_installed_over_source": round(
            statistics.median(
                a / b for a, b in zip(windows["installed"], windows["source"], strict=True)
            ),
            2,
        ),
        "self_check_s": {k: [round(x, 1) for x in v] for k, v in checks.items()},
        "self_check_ratio_installed_over_source": round(
            statistics.median(
                a / b for a, b in zip(checks["installed"], checks["source"], strict=True)
            ),
            2,
        ),
        "sizes": sizes(args.packages),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
