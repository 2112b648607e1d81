"""The transformer of a sentence-transformers model run by OpenVINO instead of torch.

Measured on this machine (2 shared cores, AMD EPYC with AVX2 and no VNNI, load 10-13 from
other jobs; 160 passages, batch 32, three interleaved rounds, same run): OpenVINO fp32
took 0.30x torch's time, onnxruntime fp32 0.53x, onnxruntime int8 0.42x (lowest cosine to
torch's vectors 0.72 on these passages), OpenVINO on that int8 model 0.68x. OpenVINO fp32
gives the same vectors as torch (lowest cosine 0.9999999 over 64 passages), so it changes
speed and nothing else; the int8 models were not taken. Those times are wall clock on a
loaded machine, where OpenVINO's thread pool copes far better than torch's OpenMP
barriers; by CPU time the two are about even (issue 16 in BENCHMARKS.md).

The model is converted from the weights on disk (`openvino.convert_model` of the torch
module; no download, no `optimum`) on first use, ~20 s here, and kept as OpenVINO IR in
the cache folder under a key of the model's files (path, size, mtime): later loads read
it in under a second. The pooling, normalisation and tokenizer stay sentence-transformers'
own, so a query embedded by torch and a passage by OpenVINO agree.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _no_telemetry() -> None:
    """OpenVINO's tools send telemetry (a DNS lookup and a request to Google Analytics,
    seen with strace during an ingest) unless a consent file says no; they fall back to
    their own stub when `openvino_telemetry` cannot be imported, which this makes so."""
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]


def available() -> bool:
    """Whether OpenVINO can be imported here."""
    _no_telemetry()
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def model_key(folder: Path) -> str:
    """A key that changes when any file of the model in `folder` does."""
    digest = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=12)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


class OpenVinoEncoder:
    """Runs the token-level forward pass of a loaded sentence-transformers model on
    OpenVINO (CPU, all cores): `hidden(encoded)` returns the last hidden state, as the
    torch module would. Thread-safe (one inference request at a time)."""

    def __init__(self, transformer: Any, folder: Path, cache: Path) -> None:
        _no_telemetry()
        import openvino as ov

        target = cache / "openvino" / model_key(folder) / "model.xml"
        core = ov.Core()
        if not target.is_file():
            self._convert(transformer, target)
        model = core.read_model(str(target))
        self._compiled = core.compile_model(
            model, "CPU", {"INFERENCE_NUM_THREADS": max(os.cpu_count() or 1, 1)}
        )
        self._names = [port.get_any_name() for port in self._compiled.inputs]
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()

    @staticmethod
    def _convert(transformer: Any, target: Path) -> None:
        _no_telemetry()
        import openvino as ov
        import torch

        network = transformer.auto_model.eval()
        example = dict(transformer.tokenizer(["a b"], return_tensors="pt"))
        with torch.inference_mode():
            converted = ov.convert_model(network, example_input=example)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name("partial.xml")
        # fp16 weights would change the vectors; the IR keeps them as they are.
        ov.save_model(converted, str(partial), compress_to_fp16=False)
        partial.with_suffix(".bin").replace(target.with_suffix(".bin"))
        partial.replace(target)
        log.info("converted %s for OpenVINO into %s", network.name_or_path, target.parent)

    def hidden(self, encoded: dict[str, Any]) -> np.ndarray:
        feed = {name: np.asarray(encoded[name]) for name in self._names if name in encoded}
        with self._lock:
            result = self._request.infer(feed)
        return np.asarray(result[self._compiled.outputs[0]], dtype=np.float32)
