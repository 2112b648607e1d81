"""Which llama.cpp backend this machine can build, and why: Metal, CUDA, Vulkan or the CPU.

Standard library only: `make` runs it before the virtual environment exists. `probe()`
looks at the machine and returns a `Probe` (plain facts: paths and versions found);
`choose(probe, override)` turns those facts into a `Choice` (backend, the one-line reason,
CMake arguments, environment, wheel-cache key). The choice is a pure function of the probe,
so the tests can hand it every OS and tool combination.

Why these checks, beyond the tools the issue names:
- CUDA needs cuBLAS beside `nvcc` (llama.cpp links it) and the NVIDIA driver's `libcuda`
  (a CUDA build links it too and would not even import without it). A toolkit without
  either exists: pip's `nvidia-cuda-nvcc` puts a bare `nvcc` on the PATH.
- Vulkan needs headers of 1.3.272 or newer: llama.cpp uses `VK_EXT_layer_settings`
  unguarded, first in that header release. Debian 12 ships 1.3.239 and the build stops at
  `vk::LayerSettingEXT`; Debian 13's 1.4.309, unpacked into Carrel's cache by
  `llama_build.py vulkan-headers`, builds. It also needs `glslc`, the SPIR-V headers'
  CMake package (without it llama.cpp's CMake stops) and the loader to link against.
- Metal is Apple silicon's; llama.cpp's own Intel-Mac builds leave Metal off.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import os
import platform
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

BACKENDS = ("cpu", "vulkan", "cuda", "metal")
LABELS = {"cpu": "CPU", "vulkan": "Vulkan", "cuda": "CUDA", "metal": "Metal"}
# The x86-64 CPU flags of every build: AVX2/FMA/F16C, no AVX-512 or AMX. A native build on
# an AMX-capable Xeon segfaulted in llama.cpp's AMX kernels; a native wheel can also fault
# on another processor. Kept byte for byte: the CPU wheel's cache key hashes this string.
PORTABLE_X86 = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
)
VULKAN_MIN_HEADER = (1, 3, 272)


def cache_dir() -> Path:
    """Carrel's build cache: wheels and the private Vulkan headers live here, not in a repo."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carrel"


def private_vulkan_root() -> Path:
    """Where `llama_build.py vulkan-headers` unpacks newer Vulkan and SPIR-V headers."""
    return cache_dir() / "vulkan-headers" / "root"


@dataclass(frozen=True)
class VulkanHeaders:
    """One set of Vulkan headers: its version and include folder."""

    version: tuple[int, int, int]
    include: str
    private: bool = False

    @property
    def text(self) -> str:
        return ".".join(str(v) for v in self.version)


@dataclass(frozen=True)
class Probe:
    """What the machine offers for building llama.cpp (facts only, no decisions)."""

    system: str  # platform.system(): Linux, Darwin, Windows
    machine: str  # platform.machine(): x86_64, AMD64, arm64, aarch64
    nvcc: str | None = None
    cublas: bool = False
    cuda_driver: bool = False
    vulkan_headers: tuple[VulkanHeaders, ...] = ()
    vulkan_loader: bool = False
    glslc: str | None = None
    # Folder holding SPIRV-HeadersConfig.cmake, keyed by the include folder it sits beside
    # ("" for one found on its own, e.g. the system's).
    spirv_cmake: dict[str, str] = field(default_factory=dict)

    @property
    def x86(self) -> bool:
        return self.machine.lower() in ("x86_64", "amd64", "x64", "i686")


@dataclass(frozen=True)
class Choice:
    """The build to make: `backend`, why (`reason`), and how (CMake arguments, env)."""

    backend: str
    reason: str
    cmake_args: str
    env: dict[str, str] = field(default_factory=dict)
    # What identifies the build besides the llama-cpp-python version (no local paths).
    key_text: str = ""
    # Why the better backends were passed over; empty when none was.
    skipped: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LABELS[self.backend]

    def key(self, version: str) -> str:
        """The wheel folder's name in the cache. The CPU key is the hash the Makefile used
        before backends existed, so wheels built then are found again."""
        text = f"{version} {self.key_text or self.cmake_args}"
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return f"llama-{digest}" if self.backend == "cpu" else f"llama-{self.backend}-{digest}"

    def line(self) -> str:
        """The one line `make` prints: which backend, and why."""
        text = f"llama.cpp backend: {self.label} ({self.reason})"
        if self.skipped:
            text += f"; not {'; not '.join(self.skipped)}"
        return text + ". CARREL_GPU=cpu|vulkan|cuda|metal picks another."


# choosing -----------------------------------------------------------------------------------


def cpu_args(probe: Probe) -> str:
    args = PORTABLE_X86 if probe.x86 else "-DGGML_NATIVE=ON"
    if probe.system == "Darwin":  # llama.cpp turns Metal on by default on every Mac
        args += " -DGGML_METAL=OFF"
    return args


def cpu_choice(probe: Probe, reason: str, skipped: tuple[str, ...] = ()) -> Choice:
    return Choice("cpu", reason, cpu_args(probe), skipped=skipped)


def metal_missing(probe: Probe) -> str:
    if probe.system != "Darwin":
        return f"Metal is for Macs and this is {probe.system}"
    if probe.machine.lower() not in ("arm64", "aarch64"):
        return "this Mac has an Intel processor (llama.cpp's Metal builds are for Apple silicon)"
    return ""


def cuda_missing(probe: Probe) -> str:
    if probe.nvcc is None:
        return "CUDA: no nvcc on the PATH (install the CUDA toolkit)"
    if not probe.cublas:
        return f"CUDA: {probe.nvcc} has no cuBLAS beside it (install the full CUDA toolkit)"
    if not probe.cuda_driver:
        return "CUDA: no NVIDIA driver (libcuda) found, which a CUDA build needs to start"
    return ""


def best_vulkan_headers(probe: Probe) -> VulkanHeaders | None:
    found = sorted(probe.vulkan_headers, key=lambda h: (h.version, h.private))
    return found[-1] if found else None


def vulkan_missing(probe: Probe) -> str:
    headers = best_vulkan_headers(probe)
    need = ".".join(str(v) for v in VULKAN_MIN_HEADER)
    if headers is None:
        return "Vulkan: no Vulkan headers (Debian: libvulkan-dev; or the LunarG Vulkan SDK)"
    if headers.version < VULKAN_MIN_HEADER:
        return (
            f"Vulkan: headers {headers.text} are older than the {need} this llama.cpp needs "
            "(Debian 12: python3 packaging/llama_build.py vulkan-headers)"
        )
    if not probe.vulkan_loader:
        return "Vulkan: no Vulkan loader library to link against (Debian: libvulkan-dev)"
    if probe.glslc is None:
        return "Vulkan: no glslc shader compiler (Debian: glslc)"
    if spirv_dir(probe, headers) is None:
        return "Vulkan: no SPIR-V headers CMake package (Debian: spirv-headers)"
    return ""


def spirv_dir(probe: Probe, headers: VulkanHeaders) -> str | None:
    """The SPIR-V headers beside the chosen Vulkan headers, else any found."""
    return probe.spirv_cmake.get(headers.include) or probe.spirv_cmake.get("")


def vulkan_choice(probe: Probe, skipped: tuple[str, ...]) -> Choice:
    headers = best_vulkan_headers(probe)
    assert headers is not None
    spirv = spirv_dir(probe, headers)
    args = f"-DGGML_VULKAN=ON {cpu_args(probe)}"
    env: dict[str, str] = {}
    if headers.private or probe.system == "Windows":
        args += f" -DVulkan_INCLUDE_DIR={headers.include}"
        env["CPATH"] = headers.include
    if spirv:
        args += f" -DSPIRV-Headers_DIR={spirv}"
    where = " from Carrel's cache" if headers.private else ""
    reason = f"Vulkan {headers.text} headers{where}, glslc and the SPIR-V headers found"
    key = f"-DGGML_VULKAN=ON {cpu_args(probe)} vulkan-headers={headers.text}"
    return Choice("vulkan", reason, args, env, key, skipped)


def cuda_choice(probe: Probe, skipped: tuple[str, ...]) -> Choice:
    args = f"-DGGML_CUDA=ON {cpu_args(probe)}"
    reason = f"nvcc at {probe.nvcc}, cuBLAS and the NVIDIA driver found"
    return Choice("cuda", reason, args, {}, args, skipped)


def metal_choice(probe: Probe) -> Choice:
    args = "-DGGML_METAL=ON -DGGML_NATIVE=ON"
    return Choice("metal", "Apple silicon", args, {}, args)


def choose(probe: Probe, override: str | None = None) -> Choice:
    """The backend to build: `override` (CARREL_GPU) when its parts are there, else the best
    the machine offers: Metal on Apple silicon, CUDA, Vulkan, then the portable CPU build."""
    wanted = (override or "").strip().lower()
    if wanted and wanted not in BACKENDS:
        raise ValueError(f"CARREL_GPU={override!r}: use one of {', '.join(BACKENDS)}")
    checks = {"metal": metal_missing, "cuda": cuda_missing, "vulkan": vulkan_missing}
    makers = {
        "metal": lambda skipped: metal_choice(probe),
        "cuda": lambda skipped: cuda_choice(probe, skipped),
        "vulkan": lambda skipped: vulkan_choice(probe, skipped),
    }
    if wanted == "cpu":
        return cpu_choice(probe, "CARREL_GPU=cpu")
    if wanted:
        missing = checks[wanted](probe)
        if missing:
            return cpu_choice(probe, f"CARREL_GPU={wanted}, but {missing}")
        chosen = makers[wanted](())
        return Choice(
            chosen.backend,
            f"CARREL_GPU={wanted}: {chosen.reason}",
            chosen.cmake_args,
            chosen.env,
            chosen.key_text,
        )
    skipped: list[str] = []
    if probe.system == "Darwin":
        if not metal_missing(probe):
            return metal_choice(probe)
        skipped.append(f"Metal: {metal_missing(probe)}")
    for backend in ("cuda", "vulkan"):
        missing = checks[backend](probe)
        if not missing:
            return makers[backend](tuple(skipped))
        skipped.append(missing)
    return cpu_choice(probe, "no GPU toolchain found", tuple(skipped))


# probing ------------------------------------------------------------------------------------


_VERSION = re.compile(r"#define\s+VK_HEADER_VERSION\s+(\d+)")
_COMPLETE = re.compile(
    r"#define\s+VK_HEADER_VERSION_COMPLETE\s+VK_MAKE_API_VERSION\(\s*\d+\s*,\s*(\d+)\s*,\s*(\d+)"
)


def read_vulkan_headers(include: Path, private: bool = False) -> VulkanHeaders | None:
    """The version of the Vulkan headers in `include` (needs vulkan.hpp too: C++)."""
    core = include / "vulkan" / "vulkan_core.h"
    if not core.is_file() or not (include / "vulkan" / "vulkan.hpp").is_file():
        return None
    text = core.read_text(errors="replace")
    patch, complete = _VERSION.search(text), _COMPLETE.search(text)
    if patch is None:
        return None
    major, minor = (int(complete.group(1)), int(complete.group(2))) if complete else (1, 0)
    return VulkanHeaders((major, minor, int(patch.group(1))), str(include), private)


def _spirv_beside(root: Path) -> str | None:
    for pattern in (
        "share/cmake/SPIRV-Headers",
        "lib/cmake/SPIRV-Headers",
        "lib/*/cmake/SPIRV-Headers",
    ):
        for folder in sorted(root.glob(pattern)) if root.is_dir() else []:
            if (folder / "SPIRV-HeadersConfig.cmake").is_file():
                return str(folder)
    return None


def _roots(system: str) -> list[tuple[Path, bool]]:
    """Install prefixes that may hold Vulkan headers, private ones marked True."""
    roots: list[tuple[Path, bool]] = [(private_vulkan_root() / "usr", True)]
    sdk = os.environ.get("VULKAN_SDK")
    if sdk:
        roots.append((Path(sdk), False))
    if system != "Windows":
        roots += [
            (Path("/usr"), False),
            (Path("/usr/local"), False),
            (Path("/opt/homebrew"), False),
        ]
    return roots


def _vulkan_loader(system: str) -> bool:
    sdk = os.environ.get("VULKAN_SDK")
    if system == "Windows":
        return bool(sdk) and Path(sdk, "Lib", "vulkan-1.lib").is_file()
    names = ["libvulkan.so", "libvulkan.dylib"]
    folders = [
        "/usr/lib",
        "/usr/lib64",
        "/usr/local/lib",
        "/opt/homebrew/lib",
        *map(str, Path("/usr/lib").glob("*-linux-gnu")),
    ]
    if sdk:
        folders.append(str(Path(sdk, "lib")))
    return any(Path(f, n).exists() for f in folders for n in names)


def _cuda(nvcc: str | None) -> tuple[bool, bool]:
    """(cuBLAS beside nvcc, NVIDIA driver present)."""
    cublas = False
    if nvcc is not None:
        real = Path(nvcc).resolve()
        # pip's nvcc wrapper script (/usr/local/bin/nvcc here) execs the real one.
        if real.stat().st_size < 4096:
            text = real.read_text(errors="replace")
            match = re.search(r"exec\s+(\S+/nvcc)", text)
            real = Path(match.group(1)).resolve() if match else real
        home = real.parent.parent
        tops = [home, Path(os.environ.get("CUDA_PATH", home))]
        cublas = any(
            (top / "include" / "cublas_v2.h").is_file()
            or any(top.glob("targets/*/include/cublas_v2.h"))
            for top in tops
        )
    driver = (
        ctypes.util.find_library("cuda") is not None
        or ctypes.util.find_library("nvcuda") is not None
    )
    return cublas, driver


def probe() -> Probe:
    """Look at this machine."""
    system, machine = platform.system(), platform.machine()
    nvcc = shutil.which("nvcc")
    cublas, driver = _cuda(nvcc)
    headers: list[VulkanHeaders] = []
    spirv: dict[str, str] = {}
    for root, private in _roots(system):
        include = root / ("Include" if system == "Windows" else "include")
        found = read_vulkan_headers(include, private)
        beside = _spirv_beside(root)
        if found is not None:
            headers.append(found)
            if beside:
                spirv[found.include] = beside
        if beside and not private:
            spirv.setdefault("", beside)
    glslc = shutil.which("glslc")
    sdk = os.environ.get("VULKAN_SDK")
    if glslc is None and sdk:
        for name in ("glslc", "glslc.exe"):
            for sub in ("bin", "Bin"):
                if Path(sdk, sub, name).is_file():
                    glslc = str(Path(sdk, sub, name))
    return Probe(
        system=system,
        machine=machine,
        nvcc=nvcc,
        cublas=cublas,
        cuda_driver=driver,
        vulkan_headers=tuple(headers),
        vulkan_loader=_vulkan_loader(system),
        glslc=glslc,
        spirv_cmake=spirv,
    )
