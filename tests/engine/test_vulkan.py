"""The Vulkan build on a real Vulkan device: Mesa's lavapipe (`llvmpipe`), a software GPU.

llama.cpp skips CPU-type Vulkan devices unless `GGML_VK_VISIBLE_DEVICES` names them, and
ggml lists devices once per process, so every scenario runs in a process of its own
(`tests.engine.vulkan_probe`, `python -m app …`). The CPU build to compare with is the one
`make test` unpacks into `.venv/llama-cpu`. Lavapipe is slow (about 0.5 s a token here), so
device runs generate a few tokens only. They skip, saying why, when the venv's build is not
a Vulkan build (set-up found no Vulkan toolchain) or there is no Vulkan device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.engine.devices import backends

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CPU_SIDE = Path(sys.prefix) / "llama-cpu"
VISIBLE = {"GGML_VK_VISIBLE_DEVICES": "0"}
TOKENS = 4


@pytest.fixture(scope="module", autouse=True)
def _vulkan_build() -> None:
    if "Vulkan" not in backends():
        pytest.skip("the venv's llama.cpp is not a Vulkan build (see `make`'s backend line)")


def run(args: list[str], env: dict[str, str] | None = None, cpu_build: bool = False) -> Any:
    """A module in a fresh process; its output parsed as JSON (the probe's last line, or
    the whole of a `carrel … --json`)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GGML_VK_")}
    full.update(env or {})
    full["PYTHONPATH"] = f"{CPU_SIDE}{os.pathsep}{ROOT}" if cpu_build else str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", *args], env=full, cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout.strip()
    return json.loads(out if args[0] == "app" else out.splitlines()[-1])


def probe(scenario: str, model: Path, env: dict[str, str] | None = None, **kw: Any) -> Any:
    args = ["tests.engine.vulkan_probe", scenario, "--model", str(model), "--tokens", str(TOKENS)]
    for key, value in kw.items():
        if key != "cpu_build":
            args += [f"--{key}", str(value)]
    return run(args, env, cpu_build=kw.get("cpu_build", False))


@pytest.fixture(scope="module")
def on_device(smollm_path: Path) -> Any:
    result = probe("greedy", smollm_path, VISIBLE)
    if not any(d["kind"] == "gpu" for d in result["report"]["devices"]):
        pytest.skip("no Vulkan device, even with GGML_VK_VISIBLE_DEVICES=0 (mesa-vulkan-drivers)")
    return result


@pytest.fixture(scope="module")
def cpu_build_tokens(smollm_path: Path) -> list[int]:
    if not (CPU_SIDE / "llama_cpp").is_dir():
        pytest.skip(f"no CPU build in {CPU_SIDE} to compare with: run `make cpu-side`")
    result = probe("greedy", smollm_path, cpu_build=True)
    assert result["llama_cpp"] == str(CPU_SIDE / "llama_cpp")  # really the other build
    assert result["report"]["build"] == "CPU"
    tokens: list[int] = result["tokens"]
    return tokens


def test_every_layer_runs_on_the_device_by_llama_cpp_s_own_report(on_device: Any) -> None:
    lines = on_device["lines"]
    assert "load_tensors: offloaded 31/31 layers to GPU" in lines
    assert any("Vulkan0 model buffer size" in ln for ln in lines)
    assert any("Vulkan0 KV buffer size" in ln for ln in lines)
    placement = on_device["placement"]
    assert placement["runs_on"] == "Vulkan · 31/31 layers on llvmpipe"
    assert placement["buffers_mib"]["Vulkan0 model"] == pytest.approx(92.1, abs=0.1)


def test_the_fit_estimate_matches_what_llama_cpp_put_on_the_device(
    on_device: Any, smollm_path: Path
) -> None:
    from app.library.gguf import read_header
    from app.library.verdict import estimate_fit

    buffers = on_device["placement"]["buffers_mib"]
    fit = estimate_fit(read_header(smollm_path), smollm_path.stat().st_size, 512)
    mib = 1024**2
    assert fit.weights / mib == pytest.approx(buffers["Vulkan0 model"], rel=0.01)
    assert fit.kv_cache / mib == pytest.approx(buffers["Vulkan0 KV"], rel=0.01)
    assert fit.compute / mib == pytest.approx(buffers["Vulkan0 compute"], rel=0.05)


def test_greedy_tokens_on_the_device_match_the_cpu_build(
    on_device: Any, cpu_build_tokens: list[int]
) -> None:
    # Measured: token-identical (lavapipe's kernels round as the CPU's do for this model).
    assert len(on_device["tokens"]) == TOKENS
    assert on_device["tokens"] == cpu_build_tokens


def test_with_no_visible_device_the_same_build_runs_on_the_cpu_and_says_so(
    smollm_path: Path, cpu_build_tokens: list[int]
) -> None:
    result = probe("greedy", smollm_path)
    assert result["report"]["build"] == "Vulkan" and not any(
        d["kind"] == "gpu" for d in result["report"]["devices"]
    )
    assert "ggml_vulkan: No devices found." in result["startup"]  # llama.cpp's own word
    placement = result["placement"]
    assert placement["runs_on"] == "CPU"
    assert placement["notes"] == [
        "This Vulkan build of llama.cpp found no usable GPU, so models run on the CPU."
    ]
    assert result["tokens"] == cpu_build_tokens


def test_carrel_system_lists_llvmpipe_and_the_fit_follows_it(carrel_home: Path) -> None:
    seen = run(["app", "system", "--json"], VISIBLE)
    llvmpipe = [d for d in seen["devices"] if d["name"] == "Vulkan0"]
    assert llvmpipe and llvmpipe[0]["description"].startswith("llvmpipe")
    assert llvmpipe[0]["total"] == 2048 * 1024**2 and llvmpipe[0]["free"] > 0
    assert seen["build"] == "Vulkan" and seen["gpu_offload"] is True
    fit = seen["model"]["fit"]
    assert fit["verdict"] == "full-gpu" and fit["device"] == "llvmpipe"
    assert "free on llvmpipe" in fit["summary"]
    hidden = run(["app", "system", "--json"])
    assert [d["kind"] for d in hidden["devices"]] == ["cpu"]
    assert hidden["model"]["fit"]["verdict"] == "cpu" and hidden["note"]


def test_carrel_chat_json_says_where_the_model_ran(carrel_home: Path) -> None:
    args = ["app", "chat", "--prompt", "Hi", "--max-tokens", "2", "--seed", "1", "--json"]
    on = run(args, VISIBLE)
    assert on["runs_on"] == "Vulkan · 31/31 layers on llvmpipe"
    assert on["placement"]["offloaded_layers"] == 31
    cpu = run([*args, "--gpu-layers", "none"], VISIBLE)
    assert cpu["runs_on"] == "CPU" and cpu["text"] == on["text"]


def test_a_load_the_device_cannot_hold_falls_back_and_says_where_layers_went(
    smollm_path: Path, cpu_build_tokens: list[int]
) -> None:
    """Lavapipe's 2 GiB is system memory with no budget enforced, and ggml moves any op too
    big for a Vulkan buffer to the CPU, so no real load runs it out of memory. ggml-vulkan's
    own GGML_VK_FORCE_MAX_BUFFER_SIZE makes it a device with smaller buffers: the refusal
    (`failed to allocate Vulkan0 buffer`), llama.cpp's error and its report of where the
    layers went after Carrel's retry are all real. SmolLM2's 30 repeating layers are one
    63 MiB buffer; 15 of them are 30 MiB."""
    half = probe("greedy", smollm_path, {**VISIBLE, "GGML_VK_FORCE_MAX_BUFFER_SIZE": "41943040"})
    placement = half["placement"]
    assert (
        "llama_model_load: error loading model: unable to allocate Vulkan0 buffer" in half["lines"]
    )
    assert "load_tensors: offloaded 15/31 layers to GPU" in half["lines"]
    assert placement["runs_on"] == "Vulkan · 15/31 layers on llvmpipe"
    assert placement["notes"][0].startswith("31 layers did not fit on llvmpipe (llama.cpp: ")
    assert placement["notes"][-1] == "Loaded with 15 of 31 layers on llvmpipe, 16 on the CPU."
    assert half["tokens"] == cpu_build_tokens

    none = probe("greedy", smollm_path, {**VISIBLE, "GGML_VK_FORCE_MAX_BUFFER_SIZE": "8388608"})
    notes = none["placement"]["notes"]
    assert none["placement"]["runs_on"] == "CPU"
    assert [n.split(" (")[0] for n in notes[:2]] == [
        "31 layers did not fit on llvmpipe",
        "15 layers did not fit on llvmpipe",
    ]
    assert notes[-1] == "Loaded with all 31 layers on the CPU."
    assert none["tokens"] == cpu_build_tokens


def test_a_device_lost_between_replies_ends_that_reply_and_reloads_on_the_cpu(
    smollm_path: Path,
) -> None:
    """What is exercised, and what is not: nothing can be unplugged here, so the probe makes
    `llama_decode` return -3 for one call — llama.cpp's code for "the backend's graph
    compute failed" — at the ctypes boundary llama-cpp-python calls it through (see
    `vulkan_probe.lost`). The model on the device, Carrel's owner thread, the error and the
    reload on the CPU are real. A real `VK_ERROR_DEVICE_LOST` in this llama.cpp is thrown
    as a C++ exception through `llama_decode`, which does not catch it, so it would end the
    process instead; that case needs inference in a child process, not done here."""
    result = probe("lost", smollm_path, VISIBLE)
    assert result["before"]["runs_on"] == "Vulkan · 31/31 layers on llvmpipe"
    assert result["error"].startswith("DeviceLostError: The GPU (llvmpipe) stopped working")
    assert "reloading the model on the CPU" in result["error"] and result["failed_calls"] == 1
    assert result["after"]["runs_on"] == "CPU"
    assert result["after"]["notes"][-1].startswith("Reloaded on the CPU after llvmpipe failed")
    assert result["third_reply"] == result["first_reply"] != ""
