"""The memory estimate's parts and the verdicts, from real headers."""

from __future__ import annotations

from pathlib import Path

from app.library.fit import GpuMemory, kv_cache_bytes, memory_need
from app.library.gguf import read_header
from app.library.verdict import CPU_ONLY, FULL_GPU, PARTIAL, WONT_FIT, estimate_fit

MIB = 1024**2


def test_parts_match_llama_cpp_buffers(smollm_path: Path, gemma_path: Path) -> None:
    smol = read_header(smollm_path)
    # llama.cpp reports "CPU KV buffer size = 45.00 MiB" at 2048 and 180.00 MiB at 8192.
    assert kv_cache_bytes(smol, 2048) == 45 * MIB
    assert kv_cache_bytes(smol, 8192) == 180 * MIB
    gemma = read_header(gemma_path)
    assert kv_cache_bytes(gemma, 2048) == 36 * MIB  # 6 MiB global + 30 MiB SWA layers
    need = memory_need(smol, smollm_path.stat().st_size, 2048)
    assert abs(need.weights - 92.10 * MIB) < 0.01 * MIB
    assert need.worst_case > need.total


def test_verdicts(smollm_path: Path) -> None:
    h = read_header(smollm_path)
    size = smollm_path.stat().st_size
    gib = 1024**3
    cpu = estimate_fit(h, size, 2048, ram_free=8 * gib)
    assert cpu.verdict == CPU_ONLY and cpu.vram_free is None
    assert "no GPU device" in cpu.describe()
    full = estimate_fit(h, size, 2048, ram_free=8 * gib, gpu=GpuMemory("test", gib, 2 * gib))
    assert full.verdict == FULL_GPU and full.gpu_layers == 30
    # Weights 92 MiB + KV 45 MiB + a ~100 MiB compute buffer: 200 MiB holds some layers.
    part = estimate_fit(h, size, 2048, ram_free=8 * gib, gpu=GpuMemory("test", 200 * MIB, 2 * gib))
    assert part.verdict == PARTIAL and 0 < part.gpu_layers < 30
    assert f"{part.gpu_layers} of 30 layers" in part.describe()
    no = estimate_fit(h, size, 8192, ram_free=100 * MIB)
    assert no.verdict == WONT_FIT and "smaller quant" in no.describe()
    assert estimate_fit(h, size, 10**6).n_ctx == 8192  # trained length
