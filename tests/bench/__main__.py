"""Run the benchmarks, each in its own process, and keep their JSON under results/.

    python -m tests.bench                 # all of them
    python -m tests.bench generation gui  # some of them

Each `bench_<name>.py` prints a JSON summary as its last output; the figures go into
BENCHMARKS.md by hand, with the machine and the date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    wanted = argv or available
    unknown = set(wanted) - set(available)
    if unknown:
        print(f"unknown benchmarks: {', '.join(sorted(unknown))}; have: {', '.join(available)}")
        return 2
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    failed = []
    for name in wanted:
        print(f"== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", f"tests.bench.bench_{name}"],
            capture_output=True,
            text=True,
        )
        sys.stdout.write(proc.stdout)
        (results / f"{name}.txt").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
