"""Which llama.cpp build set-up picks, for every OS and tool combination it knows.

The choice is a pure function of a `Probe` (what the machine offers), so each case below is
a machine described by its facts. CUDA and Metal cannot be built on the test machine; their
detection and recipes are checked here, and the real probe of this machine at the end.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.packaging.scripts import load

detect = load("llama_detect")
Probe, VulkanHeaders = detect.Probe, detect.VulkanHeaders

SYSTEM_239 = VulkanHeaders((1, 3, 239), "/usr/include")
PRIVATE_309 = VulkanHeaders((1, 4, 309), "/cache/vulkan-headers/root/usr/include", True)
SDK_WIN = VulkanHeaders((1, 4, 313), r"C:\VulkanSDK\1.4.313.0\Include")
SPIRV = {"": "/usr/share/cmake/SPIRV-Headers"}
SPIRV_PRIVATE = {
    PRIVATE_309.include: "/cache/vulkan-headers/root/usr/share/cmake/SPIRV-Headers",
    **SPIRV,
}


def linux(**facts: object) -> object:
    return Probe(system="Linux", machine="x86_64", **facts)


def vulkan_ok(**more: object) -> dict[str, object]:
    return {
        "vulkan_headers": (SYSTEM_239, PRIVATE_309),
        "vulkan_loader": True,
        "glslc": "/usr/bin/glslc",
        "spirv_cmake": SPIRV_PRIVATE,
        **more,
    }


CUDA_OK = {"nvcc": "/usr/local/cuda/bin/nvcc", "cublas": True, "cuda_driver": True}


def test_cpu_key_is_the_one_the_makefile_used_before_backends() -> None:
    choice = detect.choose(linux())
    assert choice.backend == "cpu" and choice.cmake_args == detect.PORTABLE_X86
    # The Makefile hashed `printf '%s %s' VERSION ARGS | sha256sum | cut -c1-12`.
    old = hashlib.sha256(f"0.3.36 {detect.PORTABLE_X86}".encode()).hexdigest()[:12]
    assert choice.key("0.3.36") == f"llama-{old}" == "llama-66678c542cd1"


def test_linux_with_nothing_gets_the_portable_cpu_build_and_says_what_is_missing() -> None:
    choice = detect.choose(linux())
    line = choice.line()
    assert line.startswith("llama.cpp backend: CPU (no GPU toolchain found)")
    assert "no nvcc on the PATH" in line and "no Vulkan headers" in line
    assert line.count("\n") == 0 and "CARREL_GPU=" in line


def test_linux_cuda_needs_nvcc_cublas_and_the_driver() -> None:
    choice = detect.choose(linux(**CUDA_OK, **vulkan_ok()))
    assert choice.backend == "cuda"
    assert choice.cmake_args == f"-DGGML_CUDA=ON {detect.PORTABLE_X86}"
    no_cublas = detect.choose(linux(**{**CUDA_OK, "cublas": False}, **vulkan_ok()))
    assert no_cublas.backend == "vulkan" and "no cuBLAS" in no_cublas.line()
    no_driver = detect.choose(linux(**{**CUDA_OK, "cuda_driver": False}))
    assert no_driver.backend == "cpu" and "no NVIDIA driver" in no_driver.line()


def test_linux_vulkan_prefers_the_private_headers_and_passes_them_to_cmake() -> None:
    choice = detect.choose(linux(**vulkan_ok()))
    assert choice.backend == "vulkan"
    assert f"-DVulkan_INCLUDE_DIR={PRIVATE_309.include}" in choice.cmake_args
    assert f"-DSPIRV-Headers_DIR={SPIRV_PRIVATE[PRIVATE_309.include]}" in choice.cmake_args
    assert choice.env == {"CPATH": PRIVATE_309.include}
    assert "Vulkan 1.4.309 headers from Carrel's cache" in choice.line()
    # The key holds no local path, but does hold the header version.
    assert "/cache" not in choice.key_text and "1.4.309" in choice.key_text
    assert choice.key("0.3.36").startswith("llama-vulkan-")


def test_linux_vulkan_with_system_headers_new_enough_needs_no_include_dir() -> None:
    new = VulkanHeaders((1, 4, 309), "/usr/include")
    choice = detect.choose(linux(**vulkan_ok(vulkan_headers=(new,), spirv_cmake=SPIRV)))
    assert choice.backend == "vulkan" and "Vulkan_INCLUDE_DIR" not in choice.cmake_args
    assert "-DSPIRV-Headers_DIR=/usr/share/cmake/SPIRV-Headers" in choice.cmake_args


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"vulkan_headers": (SYSTEM_239,)}, "headers 1.3.239 are older than the 1.3.272"),
        ({"vulkan_headers": ()}, "no Vulkan headers"),
        ({"glslc": None}, "no glslc"),
        ({"spirv_cmake": {}}, "no SPIR-V headers"),
        ({"vulkan_loader": False}, "no Vulkan loader"),
    ],
)
def test_linux_vulkan_missing_one_part_falls_to_cpu_naming_it(
    change: dict[str, object], said: str
) -> None:
    choice = detect.choose(linux(**vulkan_ok(**change)))
    assert choice.backend == "cpu" and said in choice.line()


def test_debian_12_headers_point_at_the_fetch_command() -> None:
    line = detect.choose(linux(**vulkan_ok(vulkan_headers=(SYSTEM_239,)))).line()
    assert "packaging/llama_build.py vulkan-headers" in line


def test_linux_arm_builds_natively() -> None:
    choice = detect.choose(Probe(system="Linux", machine="aarch64"))
    assert choice.backend == "cpu" and choice.cmake_args == "-DGGML_NATIVE=ON"


def test_macos_apple_silicon_gets_metal_first() -> None:
    choice = detect.choose(Probe(system="Darwin", machine="arm64", **vulkan_ok()))
    assert choice.backend == "metal" and "-DGGML_METAL=ON" in choice.cmake_args
    assert "Apple silicon" in choice.line()


def test_macos_intel_gets_cpu_with_metal_switched_off() -> None:
    choice = detect.choose(Probe(system="Darwin", machine="x86_64"))
    assert choice.backend == "cpu"
    # llama.cpp turns Metal on for every Mac unless told otherwise.
    assert choice.cmake_args == f"{detect.PORTABLE_X86} -DGGML_METAL=OFF"
    assert "Intel processor" in choice.line()
    cpu_on_arm = detect.choose(Probe(system="Darwin", machine="arm64"), "cpu")
    assert cpu_on_arm.cmake_args == "-DGGML_NATIVE=ON -DGGML_METAL=OFF"


def test_windows_cuda_vulkan_sdk_and_cpu() -> None:
    win = {"system": "Windows", "machine": "AMD64"}
    cuda = detect.choose(Probe(**win, nvcc=r"C:\CUDA\bin\nvcc.exe", cublas=True, cuda_driver=True))
    assert cuda.backend == "cuda" and detect.PORTABLE_X86 in cuda.cmake_args
    sdk = Probe(
        **win,
        vulkan_headers=(SDK_WIN,),
        vulkan_loader=True,
        glslc=r"C:\VulkanSDK\1.4.313.0\Bin\glslc.exe",
        spirv_cmake={SDK_WIN.include: r"C:\VulkanSDK\1.4.313.0\share\cmake\SPIRV-Headers"},
    )
    vulkan = detect.choose(sdk)
    assert vulkan.backend == "vulkan"
    assert f"-DVulkan_INCLUDE_DIR={SDK_WIN.include}" in vulkan.cmake_args
    plain = detect.choose(Probe(**win))
    assert plain.backend == "cpu" and plain.cmake_args == detect.PORTABLE_X86


def test_override_picks_another_backend_or_says_why_it_cannot() -> None:
    machine = linux(**CUDA_OK, **vulkan_ok())
    assert detect.choose(machine, "cpu").backend == "cpu"
    forced = detect.choose(machine, "vulkan")
    assert forced.backend == "vulkan" and forced.reason.startswith("CARREL_GPU=vulkan: ")
    assert detect.choose(machine, " CUDA ").backend == "cuda"
    metal = detect.choose(machine, "metal")
    assert metal.backend == "cpu" and "Metal is for Macs and this is Linux" in metal.line()
    missing = detect.choose(linux(), "vulkan")
    assert missing.backend == "cpu"
    assert "CARREL_GPU=vulkan, but Vulkan: no Vulkan headers" in missing.line()
    with pytest.raises(ValueError, match="use one of cpu, vulkan, cuda, metal"):
        detect.choose(machine, "rocm")


def test_every_backend_has_its_own_key() -> None:
    keys = {
        detect.choose(linux(**CUDA_OK, **vulkan_ok()), b).key("0.3.36")
        for b in ("cpu", "vulkan", "cuda")
    }
    keys.add(detect.choose(Probe(system="Darwin", machine="arm64")).key("0.3.36"))
    assert len(keys) == 4


# probing real files -------------------------------------------------------------------------


def _headers(root: Path, version: str, complete: str = "1, 4") -> Path:
    include = root / "include"
    (include / "vulkan").mkdir(parents=True)
    (include / "vulkan" / "vulkan_core.h").write_text(
        f"#define VK_HEADER_VERSION {version}\n"
        "#define VK_HEADER_VERSION_COMPLETE "
        f"VK_MAKE_API_VERSION(0, {complete}, VK_HEADER_VERSION)\n"
    )
    (include / "vulkan" / "vulkan.hpp").write_text("// C++ bindings\n")
    return include


def test_reads_the_header_version(tmp_path: Path) -> None:
    include = _headers(tmp_path / "new", "309")
    assert detect.read_vulkan_headers(include).version == (1, 4, 309)
    old = _headers(tmp_path / "old", "239", "1, 3")
    assert detect.read_vulkan_headers(old).text == "1.3.239"
    (old / "vulkan" / "vulkan.hpp").unlink()  # C headers alone do not build llama.cpp
    assert detect.read_vulkan_headers(old) is None


def test_nvcc_wrapper_from_pip_is_followed_to_its_toolkit(tmp_path: Path) -> None:
    toolkit = tmp_path / "cuda-13.0"
    (toolkit / "bin").mkdir(parents=True)
    real = toolkit / "bin" / "nvcc"
    real.write_bytes(b"\x7fELF" + b"\0" * 5000)
    wrapper = tmp_path / "nvcc"
    wrapper.write_text(f'#!/bin/sh\nexec {real} "$@"\n')
    assert detect._cuda(str(wrapper))[0] is False  # no cuBLAS in that toolkit
    (toolkit / "include").mkdir()
    (toolkit / "include" / "cublas_v2.h").write_text("")
    assert detect._cuda(str(wrapper))[0] is True


def test_the_real_probe_of_this_machine_gives_a_choice_in_one_line() -> None:
    probe = detect.probe()
    choice = detect.choose(probe)
    assert choice.backend in detect.BACKENDS and "\n" not in choice.line()
    if probe.nvcc and not probe.cublas:  # this machine: pip's nvcc, no cuBLAS, no driver
        assert choice.backend != "cuda" and "no cuBLAS" in choice.line()
