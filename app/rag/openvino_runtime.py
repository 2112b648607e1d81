"""MiniLM on OpenVINO in bfloat16: the embedder's runtime on a processor with AMX.

OpenVINO compiles the fp32 ONNX export (`app.rag.onnx_runtime.export`, made once from the
model on disk and cached, or shipped by the installer) for the CPU with bfloat16 inference
precision: the matrix products run on AMX tiles with fp32 accumulation, so the vectors stay
those of fp32 (lowest cosine to torch fp32's 0.99994 on 400 development passages, against
0.976 for onnxruntime's int8 weights) while an ingest runs ~1.6x as fast as on
onnxruntime int8 on the same Xeon, with 1.5-1.6x less CPU (issue 16, ninth round,
BENCHMARKS.md). The model compiles in ~0.2 s and `import openvino` takes ~0.13 s, so a
fresh Carrel's first search does not wait as it does for torch. Without AMX, OpenVINO runs
fp32 (or bf16 without tiles): fp32 measured 0.98x torch's CPU time on the AVX2 EPYC, far
slower than onnxruntime int8, so "auto" uses it only where `has_amx()`.

Tokenizing, batching and pooling are `OnnxEncoder`'s: only the network's call differs.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from app.rag.onnx_runtime import OnnxEncoder, Recipe, cached_model

# The export OpenVINO compiles: fp32, before onnxruntime's own fusions (which OpenVINO does
# not read) and without quantization.
FP32_RECIPE = Recipe(quantized=False)
THREADS = 2


@cache
def has_amx() -> bool:
    """Whether this processor has AMX with bfloat16 (Linux: its flags in /proc/cpuinfo)."""
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


class OpenVinoNetwork:
    """The compiled network, called with `OnnxEncoder`'s feed. One infer request, one call
    at a time (a request is not thread-safe): with a request per calling thread, freed as
    its thread ended, the GUI's process crashed later in Qt's text layout (a segfault in
    tests/ui/test_answers.py, where a worker thread searches). A question asked during an
    ingest waits for the call under way (four passages, ~30 ms)."""

    def __init__(
        self,
        model_file: Path,
        compiled_dir: Path | None = None,
        threads: int = THREADS,
        precision: str = "bf16",
    ) -> None:
        """`compiled_dir`: where OpenVINO keeps the compiled network (its model cache), so
        a later start loads it (~0.08 s) instead of reading and compiling the export (~0.3 s
        here, ~0.5 s the first time)."""
        import openvino

        core = openvino.Core()
        if compiled_dir is not None:
            core.set_property({"CACHE_DIR": str(compiled_dir)})
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": precision,
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        self.compiled = core.compile_model(str(model_file), "CPU", config)
        self.inputs = {name for port in self.compiled.inputs for name in port.get_names()}
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()

    def __call__(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        with self._lock:
            hidden: np.ndarray = self._request.infer(feed)[0]
        return hidden


def load_openvino_encoder(model_dir: Path, cache_dir: Path | None = None) -> OnnxEncoder:
    """The fp32 export of `model_dir` (from the installer's resources or Carrel's cache,
    made there on first use) compiled by OpenVINO in bfloat16."""
    if cache_dir is None:
        from app.config import Paths

        cache_dir = Paths.default().cache_dir
    try:
        model_file = cached_model(model_dir, cache_dir, FP32_RECIPE)
        network = OpenVinoNetwork(model_file, cache_dir / "onnx" / "openvino")
    except ImportError as exc:
        from app.rag.errors import EmbedderUnavailableError

        raise EmbedderUnavailableError(f"openvino: {exc}") from exc
    return OnnxEncoder(model_dir, network=network)
