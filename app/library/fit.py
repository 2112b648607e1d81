"""How much memory a model needs to run, and how much this machine has free."""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from app.library.gguf import GGUFHeader

# llama.cpp's compute buffers and runtime, measured on the small default models; the
# model-library issue refines this per architecture.
RUNTIME_OVERHEAD = 96 * 1024**2


@dataclass(frozen=True)
class MemoryNeed:
    """Bytes a model needs at a context length: weights + KV cache + compute buffers."""

    weights: int
    kv_cache: int
    overhead: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead


def kv_cache_bytes(header: GGUFHeader, n_ctx: int, bytes_per_value: float = 2.0) -> int:
    """K and V for every layer at `n_ctx` positions (f16 by default)."""
    layers = header.arch_value("block_count") or 0
    heads = header.arch_value("attention.head_count") or 1
    kv_heads = header.arch_value("attention.head_count_kv") or heads
    embd = header.arch_value("embedding_length") or 0
    key_len = header.arch_value("attention.key_length") or (embd // heads if heads else 0)
    value_len = header.arch_value("attention.value_length") or key_len
    if isinstance(kv_heads, list):  # per-layer head counts
        per_layer = sum(int(h) for h in kv_heads)
        return int(per_layer * n_ctx * (key_len + value_len) * bytes_per_value)
    return int(layers * n_ctx * kv_heads * (key_len + value_len) * bytes_per_value)


def memory_need(header: GGUFHeader, file_size: int, n_ctx: int) -> MemoryNeed:
    weights = max(file_size - header.data_offset, 0)
    return MemoryNeed(weights, kv_cache_bytes(header, n_ctx), RUNTIME_OVERHEAD)


def available_ram() -> int:
    """Memory the OS can give a new allocation without swapping."""
    return int(psutil.virtual_memory().available)
