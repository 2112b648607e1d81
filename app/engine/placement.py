"""Where a loaded model runs, as llama.cpp itself reported it while loading.

`parse_placement` reads llama.cpp's log lines ("load_tensors: offloaded 31/31 layers to
GPU", "Vulkan0 model buffer size = 92.10 MiB", "Vulkan0 KV buffer size", "Vulkan0 compute
buffer size") against the devices ggml lists, so the status bar and `carrel chat --json`
say what happened, not what Carrel asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.engine.devices import SystemReport, short_name

_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_BUFFER = re.compile(r"(\S+)\s+(model|KV|compute|output) buffer size\s*=\s*([\d.]+) MiB")
# What llama.cpp and ggml's backends say when a device cannot hold what was asked of it.
_OUT_OF_MEMORY = re.compile(
    r"unable to allocate|failed to allocate|out of memory|OutOfDeviceMemory|"
    r"memory allocation of size|exceeds device",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Placement:
    """The build, the layers llama.cpp offloaded (of how many) and to which device, the
    buffers it allocated per device (MiB), and notes on fallbacks that happened."""

    build: str = "CPU"
    offloaded: int = 0
    layers: int = 0
    device: str = ""
    device_name: str = ""
    buffers: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def on_gpu(self) -> bool:
        return self.offloaded > 0 and bool(self.device_name)

    def describe(self) -> str:
        """ "Vulkan · 31/31 layers on llvmpipe", or "CPU"."""
        if not self.on_gpu:
            return "CPU"
        return f"{self.build} · {self.offloaded}/{self.layers} layers on {self.device}"

    def where_layers_went(self) -> str:
        """One sentence on the split, for fallback messages."""
        if not self.on_gpu:
            return f"all {self.layers} layers on the CPU" if self.layers else "the CPU"
        rest = self.layers - self.offloaded
        cpu = f", {rest} on the CPU" if rest > 0 else ""
        return f"{self.offloaded} of {self.layers} layers on {self.device}{cpu}"

    def as_dict(self) -> dict[str, object]:
        return {
            "runs_on": self.describe(),
            "build": self.build,
            "offloaded_layers": self.offloaded,
            "layers": self.layers,
            "device": self.device,
            "device_name": self.device_name,
            "buffers_mib": dict(self.buffers),
            "notes": list(self.notes),
        }


def out_of_device_memory(lines: list[str]) -> str:
    """The line in which llama.cpp or a backend said memory ran out ("" if none did)."""
    return next((line.strip() for line in lines if _OUT_OF_MEMORY.search(line)), "")


def parse_placement(
    lines: list[str], report: SystemReport, layers: int, notes: tuple[str, ...] = ()
) -> Placement:
    """The placement llama.cpp logged while loading one model (`layers`: the model's
    block count; llama.cpp counts one more, the output layer)."""
    offloaded, total = 0, layers + 1 if layers else 0
    buffers: dict[str, float] = {}
    for line in lines:
        if match := _OFFLOADED.search(line):
            offloaded, total = int(match.group(1)), int(match.group(2))
        elif match := _BUFFER.search(line):
            key = f"{match.group(1)} {match.group(2)}"
            buffers[key] = buffers.get(key, 0.0) + float(match.group(3))
    gpu_names = {d.name: d for d in report.gpus}
    used = [name for name in gpu_names if any(k.split()[0] == name for k in buffers)]
    if not offloaded:  # a compute buffer alone (prompt batches sent over) is not placement
        used = []
    device = gpu_names[used[0]] if used else None
    return Placement(
        build=report.build,
        offloaded=offloaded if device else 0,
        layers=total,
        device=", ".join(short_name(gpu_names[n].description) for n in used),
        device_name=device.name if device else "",
        buffers=buffers,
        notes=notes,
    )
