"""Under `strace`, `carrel serve` answering a session of requests (models, a whole and a
streamed chat, an error) opens no connection off loopback: every `connect` the process and
its threads make (if any) is to 127.0.0.1, ::1 or a Unix socket; the requests it accepted
show the trace was on."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openai
import psutil
import pytest

from tests.support.runners import ctrl_c_reaches_it

ROOT = Path(__file__).resolve().parents[2]
LOCAL = re.compile(r'sa_family=AF_UNIX|inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|AF_UNSPEC')


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (Debian: strace)")
def test_a_served_session_connects_to_nothing_off_loopback(
    carrel_home: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "connect.log"
    command = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,accept,accept4", "-e"]
    command += ["signal=none", "-o", str(trace), sys.executable, "-m", "app", "serve"]
    with subprocess.Popen(
        [*command, "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches_it,
    ) as proc:
        try:
            assert proc.stderr is not None
            found = re.search(r"Serving on (\S+)", proc.stderr.readline())
            assert found
            with openai.OpenAI(base_url=found.group(1), api_key="x", max_retries=0) as client:
                client.models.list()
                say = [{"role": "user", "content": "Hi"}]
                model = "SmolLM2-135M-Instruct.Q4_1"
                client.chat.completions.create(model=model, messages=say, max_tokens=4)  # type: ignore[arg-type]
                stream = client.chat.completions.create(
                    model=model,
                    messages=say,
                    max_tokens=4,
                    stream=True,  # type: ignore[arg-type]
                )
                assert list(stream)
                with pytest.raises(openai.NotFoundError):
                    client.chat.completions.create(model="none", messages=say)  # type: ignore[arg-type]
            # Ctrl+C goes to Carrel itself; strace ends with it.
            for child in psutil.Process(proc.pid).children():
                child.send_signal(signal.SIGINT)
            assert proc.wait(timeout=120) == 0
        finally:
            if proc.poll() is None:
                for child in psutil.Process(proc.pid).children():
                    child.kill()  # strace's child would outlive strace
                proc.kill()
                proc.wait()
    lines = trace.read_text().splitlines()
    assert any("accept" in line for line in lines), "strace saw no request: it did not trace"
    off = [line for line in lines if "connect(" in line and not LOCAL.search(line)]
    assert not off, f"connections off loopback: {off}"
