"""The window with the model on a Vulkan device (lavapipe), and a GPU that fails during a
reply: the error is shown at once, the window stays usable, the status bar follows the
reload to the CPU, and the next message is answered. In a process of its own
(`gpu_window.py`): ggml lists devices once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.devices import backends

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_a_gpu_lost_during_a_reply_is_told_and_the_model_comes_back_on_the_cpu(
    carrel_home: Path,
) -> None:
    if "Vulkan" not in backends():
        pytest.skip("the venv's llama.cpp is not a Vulkan build (see `make`'s backend line)")
    env = {**os.environ, "GGML_VK_VISIBLE_DEVICES": "0", "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.gpu_window"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == "Vulkan · 31/31 layers on llvmpipe"
    assert seen["error"].startswith("The GPU (llvmpipe) stopped working during the reply")
    assert seen["send_enabled_after_error"] and seen["settled"] and seen["after"] == "CPU"
    assert "Reloaded on the CPU after llvmpipe failed" in seen["panel"]
    assert seen["next_reply"]
