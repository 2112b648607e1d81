"""How much memory a model needs to run, and how much this machine has free.

The estimate is what llama.cpp (as Carrel loads it: CPU, f16 KV cache, full-size SWA
cache, 512-token micro-batches, logits for the last token only) keeps resident:

- weights: the tensor data of the file (memory-mapped, all pages touched by the warm-up);
- repacked weights: on x86-64, Q4_0/Q4_K/IQ4_NL matrices are copied into an interleaved
  layout for faster kernels, while the mapped originals stay resident too;
- KV cache: layers × context × KV heads × (key + value head size) × bytes per value;
- runtime: llama.cpp's own tables and the touched part of its compute buffer; measured as
  17 MiB plus 127 bytes per vocabulary entry (tokenizer tables) on the two default models.

`worst_case` adds llama.cpp's reserved compute buffer (the logits of a whole micro-batch,
or the attention scores of one at full context), which is touched only by long prompts.
With flash attention there is no score matrix; a quantized KV cache (q8_0, q4_0) shrinks
the KV term.

On a GPU the compute buffer is allocated up front, so a full offload needs weights + KV
cache + compute buffer on the device (`device_need`). The device's free memory is what
ggml itself reports (`app.engine.devices`, asked by the Workbench and handed in as a
`GpuProbe`), for any GPU maker, not a vendor tool.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from app.library.ggml_types import GGML_TYPES
from app.library.gguf import GGUFHeader

MIB = 1024**2
RUNTIME_BASE = 17 * MIB
RUNTIME_PER_TOKEN = 127
N_UBATCH = 512
# Kept for callers that read it; the runtime term is now computed per model.
RUNTIME_OVERHEAD = 96 * MIB
_REPACKED_TYPES = {"Q4_0", "Q4_K", "IQ4_NL"}
KV_TYPES: dict[str, float] = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


@dataclass(frozen=True)
class MemoryNeed:
    """Bytes a model needs at a context length: weights + KV cache + runtime/compute."""

    weights: int
    kv_cache: int
    overhead: int
    compute_reserved: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead

    @property
    def worst_case(self) -> int:
        """Resident memory once a long prompt has touched the whole compute buffer."""
        return self.total + self.compute_reserved

    @property
    def device_need(self) -> int:
        """Device memory for every layer on the GPU: weights, KV cache, compute buffer."""
        return self.weights + self.kv_cache + self.compute_reserved


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, list):  # per-layer values: the largest one
        return max((int(v) for v in value), default=default)
    return int(value) if isinstance(value, int | float) else default


def kv_cache_bytes(header: GGUFHeader, n_ctx: int, bytes_per_value: float = 2.0) -> int:
    """K and V for every layer at `n_ctx` positions (f16 by default)."""
    layers = header.arch_value("block_count") or 0
    heads = _int(header.arch_value("attention.head_count"), 1) or 1
    kv_heads = header.arch_value("attention.head_count_kv") or heads
    embd = header.arch_value("embedding_length") or 0
    key_len = header.arch_value("attention.key_length") or (embd // heads if heads else 0)
    value_len = header.arch_value("attention.value_length") or key_len
    if isinstance(kv_heads, list):  # per-layer head counts
        per_layer = sum(int(h) for h in kv_heads)
        return int(per_layer * n_ctx * (key_len + value_len) * bytes_per_value)
    return int(layers * n_ctx * kv_heads * (key_len + value_len) * bytes_per_value)


def n_vocab(header: GGUFHeader) -> int:
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    if isinstance(tokens, int):
        return tokens
    if isinstance(tokens, list):
        return len(tokens)
    return _int(header.arch_value("vocab_size"))


def repacked_bytes(header: GGUFHeader) -> int:
    """Weights llama.cpp's CPU backend copies into its interleaved layout (x86-64 only)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return 0
    total = 0
    for t in header.tensors:
        name = GGML_TYPES.get(t.ggml_type, ("?", 1, 1))[0]
        matrix = len(t.shape) >= 2 and t.shape[1] % 8 == 0
        if name in _REPACKED_TYPES and t.name != "token_embd.weight" and matrix:
            total += t.n_bytes or 0
    return total


def compute_reserved(
    header: GGUFHeader, n_ctx: int, *, flash_attn: bool = False, n_ubatch: int = N_UBATCH
) -> int:
    """llama.cpp's reserved compute buffer: the larger of a micro-batch's logits and its
    attention scores at full context (none with flash attention), plus activations."""
    ub = min(n_ubatch, n_ctx)
    heads = _int(header.arch_value("attention.head_count"), 1)
    embd = _int(header.arch_value("embedding_length"))
    logits = n_vocab(header) * ub * 4
    attention = 0 if flash_attn else int(n_ctx * ub * heads * 4 * 1.15)
    return max(logits, attention) + 3 * ub * embd * 4


def memory_need(
    header: GGUFHeader,
    file_size: int,
    n_ctx: int,
    kv_type: str = "f16",
    *,
    flash_attn: bool = False,
    n_ubatch: int = N_UBATCH,
) -> MemoryNeed:
    """The estimate at `n_ctx` for a KV cache of `kv_type` (f16, q8_0, q4_0)."""
    weights = max(file_size - header.data_offset, 0)
    kv = kv_cache_bytes(header, n_ctx, KV_TYPES.get(kv_type, 2.0))
    overhead = repacked_bytes(header) + RUNTIME_BASE + RUNTIME_PER_TOKEN * n_vocab(header)
    compute = compute_reserved(header, n_ctx, flash_attn=flash_attn, n_ubatch=n_ubatch)
    return MemoryNeed(weights, kv, overhead, compute)


def available_ram() -> int:
    """Memory the OS can give a new allocation without swapping."""
    return int(psutil.virtual_memory().available)


@dataclass(frozen=True)
class GpuMemory:
    """Free and total memory of the GPUs llama.cpp would use (summed: it splits layers
    across them by free memory); `unified` when they share the system's memory."""

    name: str
    free: int
    total: int
    unified: bool = False


# What the library asks for the GPUs' free memory now (None: no GPU to use). The Workbench
# hands the library one built on ggml's device list (`app.engine.devices`); the library
# itself knows no engine.
GpuProbe = Callable[[], "GpuMemory | None"]
