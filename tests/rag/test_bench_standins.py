"""The benches' stand-in for an AVX2-only processor (`tests/bench/avx2.py`): the libraries
that pick kernels see AVX2 and no AVX-512, and a real crash still crashes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _flags() -> set[str]:
    try:
        return set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return set()


pytestmark = pytest.mark.skipif(
    not {"cpuid_fault", "avx512f"} <= _flags() or shutil.which("gcc") is None,
    reason="needs a processor with AVX-512 that can make cpuid fault, and gcc",
)


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CARREL_BENCH_AVX2": "1",
        "PYTHONPATH": str(ROOT),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("PYTHONFAULTHANDLER", None)  # its handler would take the cpuid faults
    return subprocess.run(
        [sys.executable, "-c", f"import tests.bench\n{code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_libraries_see_avx2_only(tmp_path: Path) -> None:
    done = _run(
        "import torch, openvino\n"
        "print(torch.backends.cpu.get_cpu_capability())\n"
        "print(openvino.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    torch_isa, openvino_caps = done.stdout.splitlines()[-2:]
    assert torch_isa == "AVX2"
    assert "BF16" not in openvino_caps and "INT8" in openvino_caps


def test_a_real_crash_still_crashes(tmp_path: Path) -> None:
    done = _run("import ctypes\nctypes.string_at(0)", tmp_path)
    assert done.returncode == -signal.SIGSEGV
