"""The wheel cache and the fallback: a GPU build that fails says what was missing, the CPU
build is used instead, and the failed build is not retried on every `make`.

The builder is the one seam: these tests hand `ensure_wheel` a builder that writes a wheel
file or fails the way pip does, so the cache logic runs in milliseconds. The real builds are
made by `make` itself (their times are in BENCHMARKS.md), and the log lines the failures are
read from were copied from real failed builds on this machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.scripts import load

build = load("llama_build")
detect = load("llama_detect")

VERSION = "0.3.36"
MACHINE = detect.Probe(
    system="Linux",
    machine="x86_64",
    vulkan_headers=(detect.VulkanHeaders((1, 4, 309), "/x/include", True),),
    vulkan_loader=True,
    glslc="/usr/bin/glslc",
    spirv_cmake={"/x/include": "/x/share/cmake/SPIRV-Headers"},
)

# Debian 12's Vulkan 1.3.239 headers, as g++ 12 reported them (facts.md, 2026-12-05).
OLD_HEADERS_LOG = """\
/tmp/pip-install/vendor/llama.cpp/ggml/src/ggml-vulkan/ggml-vulkan.cpp:5214:22: error: \
'LayerSettingEXT' is not a member of 'vk'
 5214 |     std::vector<vk::LayerSettingEXT> settings = {
"""
# CARREL_GPU=cuda's build on this machine (pip's nvcc, no cuBLAS), CMake's own words: the
# optional NCCL's "Could NOT find" must not be taken for the cause.
NO_CUBLAS_LOG = """\
  -- Unable to find cublas_v2.h in either "/usr/local/cuda-13.0/include" or "/usr/math_libs/include"
  -- Found CUDAToolkit: /usr/local/cuda-13.0/include (found version "13.0.88")
  -- Could NOT find NCCL (missing: NCCL_LIBRARY NCCL_INCLUDE_DIR)
  -- Warning: NCCL not found, performance for multiple CUDA GPUs will be suboptimal
  CMake Error at vendor/llama.cpp/ggml/src/ggml-cuda/CMakeLists.txt:178 (target_link_libraries):
    Target "ggml-cuda" links to:

      CUDA::cublas

    but the target was not found.  Possible reasons include:
"""
# A required find_package that failed (CMake 3.25 here, `find_package(Vulkan COMPONENTS
# glslc REQUIRED)` with no loader library found): an error, not a "-- " status line.
NO_LOADER_LOG = """\
CMake Error at /usr/share/cmake-3.25/Modules/FindPackageHandleStandardArgs.cmake:230 (message):
  Could NOT find Vulkan (missing: Vulkan_LIBRARY) (found version "1.3.239")
"""


class Builder:
    """Makes a wheel file per call, or fails for the backends in `fails`."""

    def __init__(self, fails: dict[str, str] | None = None) -> None:
        self.fails = fails or {}
        self.calls: list[str] = []

    def __call__(self, choice: object, version: str, out: Path, log: Path) -> Path:
        self.calls.append(choice.backend)
        if choice.backend in self.fails:
            log.write_text(self.fails[choice.backend])
            raise build.BuildFailed(build.what_was_missing(self.fails[choice.backend]), log)
        wheel = out / f"llama_cpp_python-{version}-py3-none-linux_x86_64.whl"
        wheel.write_bytes(b"PK")
        return wheel


def test_what_was_missing_reads_real_failures() -> None:
    assert build.what_was_missing(OLD_HEADERS_LOG) == (
        "vk::LayerSettingEXT is missing: the Vulkan headers are too old"
    )
    assert build.what_was_missing(NO_CUBLAS_LOG) == "the CUDA toolkit has no CUDA::cublas"
    assert build.what_was_missing(NO_LOADER_LOG) == "CMake could not find Vulkan"
    assert build.what_was_missing("nothing useful\n") == "the build stopped; see its log"


def test_a_built_wheel_is_cached_by_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    choice = detect.choose(MACHINE)
    builder = Builder()
    used, wheel = build.ensure_wheel(choice, VERSION, builder, tmp_path)
    assert used.backend == "vulkan" and wheel.parent.name == choice.key(VERSION)
    assert "building the Vulkan wheel" in capsys.readouterr().out
    assert (wheel.parent / "build.json").is_file()
    again = build.ensure_wheel(choice, VERSION, builder, tmp_path)
    assert again == (used, wheel) and builder.calls == ["vulkan"]


def test_a_failed_gpu_build_falls_back_to_cpu_once_and_is_not_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    choice = detect.choose(MACHINE)
    builder = Builder({"vulkan": OLD_HEADERS_LOG})
    used, wheel = build.ensure_wheel(choice, VERSION, builder, tmp_path)
    out = capsys.readouterr().out
    assert used.backend == "cpu" and wheel.parent.name == "llama-66678c542cd1"
    assert "the Vulkan build failed: vk::LayerSettingEXT is missing" in out
    assert "building for the CPU instead" in out
    failed = tmp_path / choice.key(VERSION)
    assert (failed / "FAILED").is_file() and (failed / "build.log").is_file()
    # The next `make` does not spend ten minutes failing again; it says how to retry.
    used, _ = build.ensure_wheel(choice, VERSION, builder, tmp_path)
    out = capsys.readouterr().out
    assert used.backend == "cpu" and builder.calls == ["vulkan", "cpu"]
    assert "failed before" in out and f"Delete {failed} to try again" in out


def test_a_failed_cpu_build_stops_set_up_with_its_log(tmp_path: Path) -> None:
    choice = detect.choose(MACHINE, "cpu")
    with pytest.raises(SystemExit, match="the CPU build failed: CMake could not find"):
        build.ensure_wheel(choice, VERSION, Builder({"cpu": "Could NOT find OpenMP_C\n"}), tmp_path)


def test_version_comes_from_pyproject() -> None:
    assert build.llama_version() == VERSION


def test_the_perplexity_tool_is_kept_by_llama_cpp_python_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tools = load("llama_tools")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    version = load("llama_build").llama_version()
    kept = tmp_path / "carrel" / "llama-tools" / version / "llama-perplexity"
    assert tools.tool_path() == kept
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"")
    assert tools.build(version) == kept  # built once: the cached file is the answer
