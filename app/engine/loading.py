"""Opening a GGUF model with llama.cpp where it fits, and falling back when it does not.

`open_model` picks the GPU layers (the person's number, or from the fit estimate against
the free memory ggml reports), loads, and reads from llama.cpp's own log where the layers
went. A load that runs out of device memory is retried with half the layers, then on the
CPU, and the `Placement` it returns says what happened. A GPU build with no usable device
loads on the CPU and says so once per process. Runs on the model's owner thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.engine import llama_log
from app.engine.devices import SystemReport, default_threads, system_report
from app.engine.placement import Placement, out_of_device_memory, parse_placement
from app.errors import ModelLoadError, ModelTooLargeError
from app.library.fit import available_ram, memory_need
from app.library.load_options import AUTO_LAYERS, LoadOptions
from app.library.registry import ModelInfo
from app.library.verdict import FitEstimate, estimate_fit

log = logging.getLogger(__name__)

ALL_LAYERS = -1  # llama.cpp's n_gpu_layers for "every layer"
_said = threading.Lock()
_said_no_device: list[bool] = []


def choose_gpu_layers(requested: int, fit: FitEstimate | None) -> int:
    """Layers to offload: the person's number when they set one (>= 0); otherwise every
    layer when the model fits the GPU, the layers that fit when only some do, and none
    without a GPU (`fit` None)."""
    if requested >= 0:
        return requested
    if fit is None:
        return 0
    if fit.vram_free is None or fit.gpu_layers >= fit.layers:
        return ALL_LAYERS
    return fit.gpu_layers


def attempts(first: int, layers: int) -> list[int]:
    """The layer counts to try in turn: the first choice, half as many, then none."""
    if first == 0:
        return [0]
    count = layers + 1 if first == ALL_LAYERS or first > layers else first
    fewer = count // 2
    return [first, fewer, 0] if fewer > 0 else [first, 0]


def _no_device_note(report: SystemReport) -> tuple[str, ...]:
    """The "this GPU build found no device" note, the first time a model loads."""
    if not report.note:
        return ()
    with _said:
        if _said_no_device:
            return ()
        _said_no_device.append(True)
    log.warning("%s", report.note)
    return (report.note,)


def open_model(info: ModelInfo, opts: LoadOptions, n_ctx: int) -> tuple[Any, Placement]:
    """A `llama_cpp.Llama` for `info` and where llama.cpp placed it; raises the
    `CarrelError` that says why a model cannot load at all."""
    import llama_cpp

    report = system_report()  # starts ggml's backends (and logs what they found) if not yet
    header = info.header
    layers = int(header.arch_value("block_count") or 0) if header is not None else 0
    gpu = report.gpu_memory
    fit = None
    if header is not None and gpu is not None and opts.gpu_layers == AUTO_LAYERS:
        fit = estimate_fit(
            header,
            info.size,
            n_ctx,
            kv_type=opts.kv_type,
            flash_attn=opts.uses_flash_attn,
            n_ubatch=min(opts.batch_size, n_ctx),
            gpu=gpu,
        )
    first = choose_gpu_layers(opts.gpu_layers, fit) if gpu is not None else 0
    if first == 0 and header is not None:
        need = memory_need(header, info.size, n_ctx, opts.kv_type)
        free = available_ram()
        if need.total > free:
            raise ModelTooLargeError(info.name, need.total, free)
    notes: list[str] = list(_no_device_note(report))
    if opts.gpu_layers > 0 and gpu is None:
        notes.append(f"GPU layers {opts.gpu_layers} asked for, but there is no GPU: CPU only.")
    fell_back = False
    for n_gpu in attempts(first, layers):
        with llama_log.capture() as lines:
            try:
                llm = _llama(llama_cpp, info, opts, n_ctx, n_gpu)
            except (ValueError, RuntimeError, OSError) as exc:
                cause = out_of_device_memory(lines)
                if n_gpu != 0 and cause:
                    count = layers + 1 if n_gpu == ALL_LAYERS else n_gpu
                    notes.append(
                        f"{count} layer{'s' if count != 1 else ''} did not fit on "
                        f"{gpu.name if gpu else 'the GPU'} (llama.cpp: {cause})."
                    )
                    fell_back = True
                    continue
                detail = next((ln.strip() for ln in reversed(lines) if "error" in ln), "")
                raise ModelLoadError(info.path, detail or str(exc) or type(exc).__name__) from exc
        if fell_back:
            notes.append(f"Loaded with {where_layers_went(lines, report, layers)}.")
        return llm, parse_placement(lines, report, layers, tuple(notes))
    raise AssertionError("the last attempt (the CPU) either loads or raises")


def where_layers_went(lines: list[str], report: SystemReport, layers: int) -> str:
    return parse_placement(lines, report, layers).where_layers_went()


def _llama(llama_cpp: Any, info: ModelInfo, opts: LoadOptions, n_ctx: int, n_gpu: int) -> Any:
    kv = {"f16": None, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
    batch = min(opts.batch_size, n_ctx)
    threads = opts.threads or default_threads()
    return llama_cpp.Llama(
        model_path=str(info.path),
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=n_gpu,
        # With no layers on a GPU, llama.cpp would still send large prompt batches to it
        # (and allocate a compute buffer there); a CPU load, asked for or fallen back to
        # after the GPU ran out of memory, must not touch the GPU at all.
        op_offload=n_gpu != 0,
        n_batch=batch,
        n_ubatch=batch,
        flash_attn=opts.uses_flash_attn,
        type_k=kv[opts.kv_type],
        type_v=kv[opts.kv_type],
        verbose=False,
    )
