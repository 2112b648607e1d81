"""`carrel serve` as a person runs it: a real process that prints its address, answers,
logs each request as a line, and stops on Ctrl+C; off loopback without a token it refuses
to start, in one line."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx

from app.workbench import Workbench
from tests.support.runners import start_carrel

ROOT = Path(__file__).resolve().parents[2]


def _carrel(*args: str) -> subprocess.Popen[str]:
    # Ctrl+C must reach it even when the suite runs in the background (which ignores it).
    return start_carrel(*args, env={"HF_HUB_OFFLINE": "1"})


def test_serve_answers_logs_and_stops_on_ctrl_c(carrel_home: Path) -> None:
    with _carrel("serve", "--port", "0") as proc:
        _serve(proc)


def _serve(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"Serving on (http://127\.0\.0\.1:\d+/v1) \(token none;", line)
        assert found, line
        models = httpx.get(f"{found.group(1)}/models", timeout=60).json()
        assert "SmolLM2-135M-Instruct.Q4_1" in [m["id"] for m in models["data"]]
        assert "GET /v1/models 200" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_uses_the_idle_time_saved_in_the_window(carrel_home: Path) -> None:
    wb = Workbench.open()
    wb.change_settings("server", idle_unload_minutes=2.5)  # as the Server page saves it
    wb.close()
    for args, said in [((), "2.5 min"), (("--idle-minutes", "4"), "4 min")]:
        with _carrel("serve", "--port", "0", *args) as proc:
            try:
                assert proc.stderr is not None
                line = proc.stderr.readline()
                assert f"unloaded after {said} idle" in line, line
                proc.send_signal(signal.SIGINT)
                assert proc.wait(timeout=60) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def test_serve_off_loopback_without_a_token_refuses(carrel_home: Path) -> None:
    with _carrel("serve", "--host", "0.0.0.0", "--port", "0") as proc:
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err.startswith("carrel: Listening on 0.0.0.0") and "needs a token" in err
