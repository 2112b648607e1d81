"""Running `carrel` as a person or a script would: as a process (`carrel`), or in this
process through the same `main` (`cli`); and the child processes tests start and kill
(`python -m tests.support.runners ingest FOLDER`)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

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


def traced_python(
    script: str, trace: Path, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT` under strace, every `connect()` of it and its children written to
    `trace` (the no-egress proofs read it); `env` is the child's whole environment."""
    strace = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
    return subprocess.run(
        [*strace, sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def inet_connects(trace: Path) -> list[str]:
    """The `connect()` lines of a `traced_python` trace to an internet (AF_INET) address."""
    lines = trace.read_text().splitlines()
    return [line for line in lines if "connect(" in line and "AF_INET" in line]


def start_carrel(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python -m app ARGS` started, not waited for (stdout and stderr piped). Ctrl-C
    (SIGINT) reaches it as it would from a terminal, even when the test run itself was
    started in the background, which ignores it."""
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        preexec_fn=ctrl_c_reaches_it,
    )


def ctrl_c_reaches_it() -> None:
    """For `preexec_fn`: the child takes SIGINT as from a terminal, even when the test run
    was started in the background, which ignores it (and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll a condition that has no event to wait on (a file another process writes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class Output:
    """A child's stream read on a thread as it comes; `wait_for(text)` returns once the
    text has appeared (or False after `timeout`)."""

    def __init__(self, stream: IO[str]) -> None:
        self.text = ""
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for chunk in iter(lambda: stream.read(1), ""):
            with self._changed:
                self.text += chunk
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: text in self.text, timeout)

    def rest(self) -> str:
        """Everything, once the stream has ended."""
        self._thread.join(timeout=60)
        return self.text


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


def ingest_child(folder: str, collection: str = "crash", batch: int = 2) -> None:
    """Ingest a folder in small batches, printing each progress event with its file (and
    what it waits for), then "finished" (killed by test_crash, watched by
    test_two_processes)."""
    from app.config import Paths
    from app.rag.outcome import IngestProgress
    from app.rag.service import Documents
    from app.store import Store

    paths = Paths.default().ensure()
    store = Store(paths.database)
    docs = Documents(paths, store)
    docs.batch = batch

    def tell(p: IngestProgress) -> None:
        print(p.event, p.current, p.note, flush=True)

    report = docs.add([Path(folder)], collection, progress=tell)
    docs.close()
    store.close()
    print("finished", report.describe(), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["ingest"]:
        ingest_child(sys.argv[2], *sys.argv[3:4], *(int(n) for n in sys.argv[4:5]))
