"""`carrel system` and `carrel chat`'s load options, as a script uses them: real processes
with the venv's build and no GPU visible (a GPU build then runs on the CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def carrel(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GGML_VK_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_system_reports_the_build_its_devices_and_the_default_model_s_fit() -> None:
    r = carrel("system", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["build"] in ("CPU", "Vulkan", "CUDA", "Metal") and "CPU" in out["backends"]
    cpu = [d for d in out["devices"] if d["kind"] == "cpu"]
    assert cpu and cpu[0]["total"] >= cpu[0]["free"] > 0
    assert "AVX2" in out["cpu_features"] and out["threads"] >= 1
    assert out["model"]["name"] == "SmolLM2-135M-Instruct.Q4_1"
    assert out["model"]["fit"]["verdict"] == "cpu" and out["runs_on"] == "CPU"
    text = carrel("system")
    assert text.returncode == 0 and "Devices:" in text.stdout and "CPU features:" in text.stdout
    assert "SmolLM2-135M-Instruct.Q4_1: CPU only" in text.stdout


def test_system_names_a_missing_model_without_failing() -> None:
    r = carrel("system", "--model", "no-such-model")
    assert r.returncode == 0 and "no-such-model: No model called 'no-such-model'" in r.stdout


@pytest.mark.slow
def test_chat_takes_load_options_and_says_where_it_ran() -> None:
    load = ["--gpu-layers", "none", "--ctx", "512", "--kv-type", "q8_0", "--batch-size", "128"]
    r = carrel("chat", "--prompt", "Hi", "--max-tokens", "2", "--seed", "1", "--json", *load)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["runs_on"] == "CPU" and out["placement"]["layers"] == 31
    # llama.cpp's own buffers: a q8_0 cache at 512 cells is 34/64 of the f16 one's 11.25 MiB.
    kv = out["placement"]["buffers_mib"]["CPU KV"]
    assert kv == pytest.approx(11.25 * 34 / 64, abs=0.01)


def test_chat_refuses_a_bad_load_option_in_one_line() -> None:
    r = carrel("chat", "--prompt", "Hi", "--gpu-layers", "most")
    assert r.returncode == 1
    assert r.stderr.strip() == "carrel: GPU layers 'most': use auto, none or a number."
