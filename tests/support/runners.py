"""Running `carrel` as a person or a script would: as a process (`carrel`), or in this
process through the same `main` (`cli`); and the child processes tests start and kill
(`python -m tests.support.runners ingest FOLDER`)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def carrel(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in a child process; stdout and stderr are captured."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def start_carrel(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python -m app ARGS` started, not waited for (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """`carrel ARGV` in this process, through `app.cli.main`: (exit status, stdout, stderr)."""
    from app.cli import main

    old = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def ingest_child(folder: str) -> None:
    """Ingest a folder in small batches, printing each progress event (killed by test_crash)."""
    from app.config import Paths
    from app.rag.outcome import Progress
    from app.rag.service import Documents
    from app.store import Store

    paths = Paths.default().ensure()
    store = Store(paths.database)
    docs = Documents(paths, store)
    docs.batch = 2

    def tell(p: Progress) -> None:
        print(p.event, p.current, flush=True)

    docs.add([Path(folder)], "crash", progress=tell)
    print("finished", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["ingest"]:
        ingest_child(sys.argv[2])
