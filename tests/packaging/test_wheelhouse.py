"""The offline wheelhouse (`make wheelhouse`): a copy of this checkout sets itself up from
it with `CARREL_WHEELHOUSE=DIR make`, which installs with pip's index disabled, under a
fresh HOME (no keyed llama.cpp cache, no pip cache) and with pip's own configuration and
this machine's local wheel folder out of the way; strace shows no connection off loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.installed import ROOT, have
from tests.privacy.test_session import off_device_connects

WHEELHOUSE = os.environ.get("CARREL_WHEELHOUSE_DIR")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),  # a whole venv (torch included) installs; bounded below
    pytest.mark.skipif(
        not WHEELHOUSE or not Path(WHEELHOUSE).is_dir(),
        reason="needs a wheelhouse: `make wheelhouse && make package-test`",
    ),
]
SKIP = shutil.ignore_patterns(
    ".venv", "dist", "build", ".git", "*.egg-info", "__pycache__", ".*_cache"
)


def test_a_clean_checkout_installs_from_the_wheelhouse_alone(tmp_path: Path) -> None:
    assert WHEELHOUSE is not None
    source = tmp_path / "carrel"
    shutil.copytree(ROOT, source, ignore=SKIP)
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PIP_CONFIG_FILE": os.devnull,  # no extra index, no find-links of this machine
        "PIP_NO_CACHE_DIR": "1",
        "CARREL_WHEELHOUSE": str(Path(WHEELHOUSE).resolve()),
    }
    python = shutil.which("python3") or "python3"
    command = ["make", "-C", str(source), f"PYTHON={python}", ".venv/.installed-stamp"]
    trace = tmp_path / "connect.trace"
    if have("strace"):
        command = [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-e",
            "trace=connect",
            "-o",
            str(trace),
            *command,
        ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "llama.cpp: building" not in done.stdout  # its wheels came from the wheelhouse
    if have("strace"):
        assert off_device_connects(trace.read_text()) == []
    check = subprocess.run(
        [
            str(source / ".venv" / "bin" / "python"),
            "-c",
            "import torch, llama_cpp, sentence_transformers, app;"
            "print(torch.__version__, llama_cpp.__version__, app.__version__)",
        ],
        env={**env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr
    torch_version, llama_version, _ = check.stdout.split()
    assert torch_version.endswith("+cpu") and llama_version == "0.3.36"
