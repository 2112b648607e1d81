"""Where a model runs, from llama.cpp's own log and ggml's own device list, in this process
(whatever build the venv has; the GPU paths run in `test_vulkan.py`'s subprocesses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import llama_log
from app.engine.devices import Device, SystemReport, build_name, cpu_features, system_report
from app.engine.loading import attempts, open_model
from app.engine.placement import out_of_device_memory, parse_placement
from app.library.load_options import LoadOptions
from app.library.registry import ModelRegistry

# What the Vulkan build logged loading SmolLM2 (512 context) onto lavapipe, this machine.
VULKAN_LINES = [
    "load_tensors: offloaded 31/31 layers to GPU",
    "load_tensors:   CPU_Mapped model buffer size =    28.69 MiB",
    "load_tensors:      Vulkan0 model buffer size =    92.10 MiB",
    "llama_context: Vulkan_Host  output buffer size =     0.19 MiB",
    "llama_kv_cache:    Vulkan0 KV buffer size =    11.25 MiB",
    "sched_reserve:    Vulkan0 compute buffer size =    98.25 MiB",
    "sched_reserve: Vulkan_Host compute buffer size =     4.01 MiB",
]
LLVMPIPE = Device("Vulkan0", "llvmpipe (LLVM 15.0.6, 256 bits)", "gpu", "Vulkan", 2**31, 2**31)
CPU = Device("CPU", "AMD EPYC", "cpu", "CPU", 2**34, 2**34)


def _report(*devices: Device, build: str = "Vulkan") -> SystemReport:
    return SystemReport(
        build=build,
        backends=(build, "CPU") if build != "CPU" else ("CPU",),
        devices=devices,
        gpu_offload=build != "CPU",
        cpu_features=("AVX2",),
        system_info="CPU : AVX2 = 1 |",
        threads=2,
        llama_cpp_version="0.3.36",
    )


def test_placement_is_read_from_llama_cpp_s_report() -> None:
    placement = parse_placement(VULKAN_LINES, _report(LLVMPIPE, CPU), layers=30)
    assert placement.describe() == "Vulkan · 31/31 layers on llvmpipe"
    assert placement.buffers["Vulkan0 model"] == 92.10
    assert placement.buffers["Vulkan0 KV"] == 11.25
    assert placement.where_layers_went() == "31 of 31 layers on llvmpipe"
    # The same build with no device listed: whatever was asked, it is the CPU.
    cpu_only = parse_placement(VULKAN_LINES[1:], _report(CPU), layers=30)
    assert cpu_only.describe() == "CPU" and not cpu_only.on_gpu


def test_a_partial_placement_says_how_many_layers_went_where() -> None:
    lines = ["load_tensors: offloaded 15/31 layers to GPU", *VULKAN_LINES[1:3]]
    placement = parse_placement(lines, _report(LLVMPIPE, CPU), layers=30)
    assert placement.describe() == "Vulkan · 15/31 layers on llvmpipe"
    assert placement.where_layers_went() == "15 of 31 layers on llvmpipe, 16 on the CPU"


def test_out_of_memory_lines_are_recognised() -> None:
    assert out_of_device_memory(
        ["llama_model_load: error loading model: unable to allocate Vulkan0 buffer"]
    )
    assert out_of_device_memory(["sched_reserve: failed to allocate compute pp buffers"])
    assert not out_of_device_memory(VULKAN_LINES)


def test_fallback_attempts_halve_then_go_to_the_cpu() -> None:
    assert attempts(-1, 30) == [-1, 15, 0]
    assert attempts(8, 30) == [8, 4, 0]
    assert attempts(1, 30) == [1, 0]
    assert attempts(0, 30) == [0]


def test_report_names_the_build_and_cpu_features() -> None:
    assert build_name(["Vulkan", "CPU"]) == "Vulkan"
    assert build_name(["MTL", "BLAS", "CPU"]) == "Metal"
    assert build_name(["CPU"]) == "CPU"
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX512 = 0 | AVX2 = 1 | OPENMP = 1 | REPACK = 1 |"
    assert cpu_features(info) == ("SSE3", "AVX", "AVX2", "OPENMP", "REPACK")
    gpu_less = _report(CPU)
    assert "found no usable GPU" in gpu_less.note and gpu_less.runs_on() == "CPU"
    assert (
        _report(LLVMPIPE, CPU).runs_on() == "Vulkan · llvmpipe"
        and not _report(CPU, build="CPU").note
    )


def test_this_build_reports_itself_through_ggml() -> None:
    report = system_report()
    assert report.build in ("CPU", "Vulkan", "CUDA", "Metal")
    cpu = [d for d in report.devices if d.kind == "cpu"]
    assert cpu and cpu[0].total > 0 and cpu[0].backend == "CPU"
    assert report.threads >= 1 and "AVX2" in report.cpu_features
    data = report.as_dict()
    assert data["devices"][0]["name"] and "Devices:" in report.describe()


@pytest.mark.slow
def test_a_cpu_load_is_placed_from_its_own_log(smollm_path: Path) -> None:
    info = ModelRegistry(smollm_path.parent).resolve(str(smollm_path))
    options = LoadOptions(context_length=512, gpu_layers=0, kv_type="q8_0", batch_size=256)
    with llama_log.capture() as lines:
        llm, placement = open_model(info, options, 512)
    try:
        assert placement.describe() == "CPU" and placement.layers == 31
        assert placement.buffers["CPU_Mapped model"] == pytest.approx(92.1, abs=0.1)
        # q8_0 K and V at 512 cells: llama.cpp's own figure, and flash attention turned on.
        assert any("K (q8_0)" in line and "V (q8_0)" in line for line in lines)
        assert any("flash_attn" in line and "enabled" in line for line in lines)
        assert any("n_batch" in line and "256" in line for line in lines)
    finally:
        llm.close()
