"""The devices llama.cpp itself sees, read from ggml's backend device API.

`system_report()` answers "where can a model run here?" from the `libggml` shipped in
`llama_cpp/lib` (through ctypes: `ggml_backend_dev_count`, `_get`, `_name`,
`_description`, `_type`, `_memory`; `ggml_backend_reg_*` for the backends compiled in),
not from a vendor tool such as NVML: these are the devices and free memory llama.cpp will
use, whatever the GPU's maker. It also gives the backend the build was made for, the CPU
features llama.cpp's system info lists, and the thread count Carrel uses.

ggml builds its device list once per process, at the first question; a Vulkan build only
lists CPU-type devices (Mesa's lavapipe) when `GGML_VK_VISIBLE_DEVICES` names them.
"""

from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from app.engine import llama_log
from app.library.fit import GpuMemory

MIB = 1024**2
# enum ggml_backend_dev_type in the ggml this llama.cpp vendors.
KINDS = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel", 4: "meta"}
# Backend registry names of the GPU builds (Metal registers as "MTL").
BUILDS = {"MTL": "Metal", "Metal": "Metal", "CUDA": "CUDA", "ROCm": "ROCm", "Vulkan": "Vulkan",
          "SYCL": "SYCL", "OpenCL": "OpenCL", "MUSA": "MUSA", "CANN": "CANN"}  # fmt: skip


@dataclass(frozen=True)
class Device:
    """One device as ggml reports it; `kind` is cpu, gpu, igpu (shares system memory),
    accel or meta; `backend` the registry it belongs to (Vulkan, CUDA, MTL, CPU…)."""

    name: str
    description: str
    kind: str
    backend: str
    free: int
    total: int

    @property
    def is_gpu(self) -> bool:
        return self.kind in ("gpu", "igpu")

    def describe(self) -> str:
        return (
            f"{self.name} ({self.kind}) {self.description}: "
            f"{self.free / MIB:,.0f} of {self.total / MIB:,.0f} MiB free"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SystemReport:
    """What this llama.cpp build can run on: its backend, the devices ggml lists with their
    memory, the CPU features it uses and Carrel's default thread count."""

    build: str
    backends: tuple[str, ...]
    devices: tuple[Device, ...]
    gpu_offload: bool
    cpu_features: tuple[str, ...]
    system_info: str
    threads: int
    llama_cpp_version: str

    @property
    def gpus(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.is_gpu)

    @property
    def gpu_memory(self) -> GpuMemory | None:
        return gpu_memory_of(self.devices)

    @property
    def note(self) -> str:
        """Said once when a GPU build has no device to use ("" otherwise)."""
        if self.build != "CPU" and not self.gpus:
            return (
                f"This {self.build} build of llama.cpp found no usable GPU, so models run on "
                "the CPU."
            )
        return ""

    def runs_on(self) -> str:
        """Where a model would run by default: the first GPU, else the CPU."""
        return f"{self.build} · {short_name(self.gpus[0].description)}" if self.gpus else "CPU"

    def describe(self) -> str:
        lines = [
            f"llama.cpp {self.llama_cpp_version}, {self.build} build "
            f"(backends: {', '.join(self.backends)}; GPU offload "
            f"{'supported' if self.gpu_offload else 'not supported'})",
            "Devices:",
            *(f"  {d.describe()}" for d in self.devices),
            f"CPU features: {' '.join(self.cpu_features) or 'none reported'}",
            f"Threads: {self.threads} (physical cores)",
        ]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "build": self.build,
            "backends": list(self.backends),
            "gpu_offload": self.gpu_offload,
            "devices": [d.as_dict() for d in self.devices],
            "cpu_features": list(self.cpu_features),
            "system_info": self.system_info,
            "threads": self.threads,
            "llama_cpp_version": self.llama_cpp_version,
            "runs_on": self.runs_on(),
            "note": self.note,
        }


def short_name(description: str) -> str:
    """A device's description without its parenthesised details: "llvmpipe" for
    "llvmpipe (LLVM 15.0.6, 256 bits)"."""
    return description.split(" (", 1)[0].strip()


def gpu_memory_of(found: tuple[Device, ...] | list[Device]) -> GpuMemory | None:
    """The GPUs among `found` as one memory figure (summed: llama.cpp splits layers across
    them by free memory); None without a GPU. `unified` when all share system memory."""
    gpus = [d for d in found if d.is_gpu]
    if not gpus:
        return None
    return GpuMemory(
        ", ".join(short_name(d.description) or d.name for d in gpus),
        sum(d.free for d in gpus),
        sum(d.total for d in gpus),
        unified=all(d.kind == "igpu" for d in gpus),
    )


def default_threads() -> int:
    """Physical cores: llama.cpp's decode gains nothing from hyper-threads."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


@functools.cache
def _ggml() -> Any:
    """The process's own libggml (the one libllama links), with the signatures we call."""
    import llama_cpp
    from llama_cpp._ctypes_extensions import load_shared_library

    llama_log.install()  # before ggml starts its backends, so what they say is captured
    lib = load_shared_library("ggml", Path(llama_cpp.__file__).parent / "lib")
    vp, size = ctypes.c_void_p, ctypes.c_size_t
    for name, res, args in (
        ("ggml_backend_dev_count", size, []),
        ("ggml_backend_dev_get", vp, [size]),
        ("ggml_backend_dev_name", ctypes.c_char_p, [vp]),
        ("ggml_backend_dev_description", ctypes.c_char_p, [vp]),
        ("ggml_backend_dev_type", ctypes.c_int, [vp]),
        ("ggml_backend_dev_memory", None, [vp, ctypes.POINTER(size), ctypes.POINTER(size)]),
        ("ggml_backend_dev_backend_reg", vp, [vp]),
        ("ggml_backend_reg_count", size, []),
        ("ggml_backend_reg_get", vp, [size]),
        ("ggml_backend_reg_name", ctypes.c_char_p, [vp]),
    ):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""


def devices() -> list[Device]:
    """Every device ggml lists, with its free and total memory now."""
    lib = _ggml()
    found = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        reg = lib.ggml_backend_dev_backend_reg(dev)
        found.append(
            Device(
                name=_text(lib.ggml_backend_dev_name(dev)),
                description=_text(lib.ggml_backend_dev_description(dev)).strip(),
                kind=KINDS.get(lib.ggml_backend_dev_type(dev), "unknown"),
                backend=_text(lib.ggml_backend_reg_name(reg)) if reg else "",
                free=int(free.value),
                total=int(total.value),
            )
        )
    return found


def backends() -> list[str]:
    """The backends compiled into this build, as ggml's registry names them."""
    lib = _ggml()
    return [
        _text(lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)))
        for i in range(lib.ggml_backend_reg_count())
    ]


def build_name(names: list[str]) -> str:
    """The GPU backend a build was made for ("Vulkan", "CUDA", "Metal"), else "CPU"."""
    return next((BUILDS[n] for n in names if n in BUILDS), "CPU")


def cpu_features(system_info: str) -> tuple[str, ...]:
    """The features llama.cpp's system info marks as used ("AVX2 = 1")."""
    found = []
    for part in system_info.replace("\n", "|").split("|"):
        if "=" in part:
            name, _, value = part.rpartition("=")
            name = name.split(":")[-1].strip()
            if value.strip() not in ("", "0") and name:
                found.append(name)
    return tuple(dict.fromkeys(found))


def system_report() -> SystemReport:
    """The backend, devices (memory as of now), CPU features and threads of this build."""
    import llama_cpp

    names = backends()
    info = _text(llama_cpp.llama_print_system_info()).strip()
    return SystemReport(
        build=build_name(names),
        backends=tuple(names),
        devices=tuple(devices()),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        cpu_features=cpu_features(info),
        system_info=info,
        threads=default_threads(),
        llama_cpp_version=str(getattr(llama_cpp, "__version__", "")),
    )
