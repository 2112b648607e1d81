"""Will-it-fit: a model's memory estimate against this machine's free RAM and the free
memory of the GPU devices llama.cpp itself lists (`app.engine.devices`, through ggml)."""

from __future__ import annotations

from dataclasses import dataclass

from app.library.fit import N_UBATCH, GpuMemory, MemoryNeed, available_ram, memory_need
from app.library.gguf import GGUFHeader

GIB = 1024**3

FULL_GPU = "full-gpu"
PARTIAL = "partial"
CPU_ONLY = "cpu"
WONT_FIT = "no"


@dataclass(frozen=True)
class FitEstimate:
    """The estimate for one model at one context length, and the verdict it leads to."""

    verdict: str
    weights: int
    kv_cache: int
    overhead: int
    worst_case: int
    ram_free: int
    vram_free: int | None
    layers: int
    gpu_layers: int
    n_ctx: int
    note: str = ""
    # What was approximated, e.g. from a header cut short; empty when every term is exact.
    approximations: tuple[str, ...] = ()
    # The GPU the figures are for ("" without one), and what the estimate assumed.
    device: str = ""
    kv_type: str = "f16"
    flash_attn: bool = False
    compute: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead

    @property
    def approximate(self) -> bool:
        return bool(self.approximations)

    def describe(self) -> str:
        need = f"needs ~{self.total / GIB:.2f} GiB"
        ram = f"{self.ram_free / GIB:.1f} GiB RAM free"
        vram = (
            "no GPU device"
            if self.vram_free is None
            else f"{self.vram_free / GIB:.1f} GiB free on {self.device or 'the GPU'}"
        )
        label = {
            FULL_GPU: "full GPU offload",
            PARTIAL: f"partial offload ({self.gpu_layers} of {self.layers} layers on the GPU)",
            CPU_ONLY: "CPU only",
            WONT_FIT: "won't fit",
        }[self.verdict]
        cache = f", {self.kv_type} KV cache" if self.kv_type != "f16" else ""
        text = f"{label}: {need} at {self.n_ctx:,} context{cache}; {ram}, {vram}"
        if self.note:
            text = f"{text}. {self.note}"
        if self.approximations:
            text = f"{text} (approximate: {'; '.join(self.approximations)})"
        return text

    def badge(self) -> str:
        """The short label of a table cell: "CPU only · 0.32 GiB", "Partial 12 of 30 ·
        4.10 GiB", "Won't fit · 9.80 GiB" ("~" before an approximate size)."""
        label = {
            FULL_GPU: "Full GPU",
            PARTIAL: f"Partial {self.gpu_layers} of {self.layers}",
            CPU_ONLY: "CPU only",
            WONT_FIT: "Won't fit",
        }[self.verdict]
        approx = "~" if self.approximate else ""
        return f"{label} · {approx}{self.total / GIB:.2f} GiB"

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "estimated_bytes": self.total,
            "weights": self.weights,
            "kv_cache": self.kv_cache,
            "overhead": self.overhead,
            "worst_case_bytes": self.worst_case,
            "ram_free": self.ram_free,
            "vram_free": self.vram_free,
            "device": self.device,
            "compute_buffer": self.compute,
            "kv_type": self.kv_type,
            "flash_attn": self.flash_attn,
            "layers": self.layers,
            "gpu_layers": self.gpu_layers,
            "n_ctx": self.n_ctx,
            "approximate": self.approximate,
            "approximations": list(self.approximations),
            "summary": self.describe(),
        }


def estimate_fit(
    header: GGUFHeader,
    file_size: int,
    n_ctx: int,
    *,
    kv_type: str = "f16",
    flash_attn: bool = False,
    n_ubatch: int = N_UBATCH,
    ram_free: int | None = None,
    gpu: GpuMemory | None = None,
) -> FitEstimate:
    """The verdict for a model whose header is known (local, or read remotely by Range), at
    a context length, KV-cache type and flash-attention setting, on this machine's free
    memory and the GPUs' `gpu` (None: no GPU to use; the library asks its `GpuProbe`)."""
    trained = header.arch_value("context_length")
    if isinstance(trained, int) and trained > 0:
        n_ctx = min(n_ctx, trained)
    flash_attn = flash_attn or kv_type != "f16"  # llama.cpp needs it for a quantized V cache
    need = memory_need(header, file_size, n_ctx, kv_type, flash_attn=flash_attn, n_ubatch=n_ubatch)
    ram = available_ram() if ram_free is None else ram_free
    layers = int(header.arch_value("block_count") or 0)
    verdict, on_gpu = _verdict(need, layers, ram, gpu)
    note = "" if need.worst_case <= ram else "Long prompts may need more than is free."
    if verdict == WONT_FIT:
        note = "Lower the context length or pick a smaller quant."
    approximations: tuple[str, ...] = ()
    if not header.complete:
        approximations = (
            "the header was read only up to its tokenizer, so the weights are the file size "
            f"less at least {header.data_offset / 1e6:.1f} MB of header (the unread rest "
            "counts as weights)",
            "the tensor table was not read, so llama.cpp's repacked copies of Q4 weights "
            "(x86-64) are not counted",
        )
    return FitEstimate(
        verdict=verdict,
        weights=need.weights,
        kv_cache=need.kv_cache,
        overhead=need.overhead,
        worst_case=need.worst_case,
        ram_free=ram,
        vram_free=gpu.free if gpu else None,
        layers=layers,
        gpu_layers=on_gpu,
        n_ctx=n_ctx,
        note=note,
        approximations=approximations,
        device=gpu.name if gpu else "",
        kv_type=kv_type,
        flash_attn=flash_attn,
        compute=need.compute_reserved,
    )


def _verdict(need: MemoryNeed, layers: int, ram: int, gpu: GpuMemory | None) -> tuple[str, int]:
    """Every layer on the GPU when weights, KV cache and compute buffer fit its free memory;
    else as many layers as fit beside the compute buffer (a dedicated GPU only: on shared
    memory a partial offload saves nothing), the rest in RAM; else the CPU."""
    if gpu is not None:
        if need.device_need <= gpu.free:
            return FULL_GPU, layers
        if not gpu.unified and layers > 0:
            per_layer = (need.weights + need.kv_cache) / layers
            room = gpu.free - need.compute_reserved
            on_gpu = max(0, min(layers - 1, int(room // per_layer))) if per_layer else 0
            if on_gpu > 0 and need.total - int(on_gpu * per_layer) <= ram:
                return PARTIAL, on_gpu
    if need.total <= ram:
        return CPU_ONLY, 0
    return WONT_FIT, 0
