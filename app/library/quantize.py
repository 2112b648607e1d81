"""Local quantization with llama.cpp, in a child process with progress and cancel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from app.library.errors import QuantizeError
from app.library.quantize_worker import PHASE

# Level names a person types → llama.cpp's llama_ftype constants.
_QUANT_NAMES = [
    "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q2_K_S", "Q3_K_S", "Q3_K_M", "Q3_K_L",
    "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0",
]  # fmt: skip
LEVELS: dict[str, str] = {
    "F32": "LLAMA_FTYPE_ALL_F32",
    "F16": "LLAMA_FTYPE_MOSTLY_F16",
    "BF16": "LLAMA_FTYPE_MOSTLY_BF16",
    **{name: f"LLAMA_FTYPE_MOSTLY_{name}" for name in _QUANT_NAMES},
}
# Sources that lose nothing when quantized; anything else is re-quantized with a warning.
FULL_PRECISION = {"F32", "F16", "BF16"}
_PROGRESS = re.compile(rb"\[\s*(\d+)/\s*(\d+)\]")


def requantize_warning(source_quant: str) -> str:
    if source_quant.upper() in FULL_PRECISION:
        return ""
    return (
        f"The source is already quantized ({source_quant}); quantizing it again loses more "
        "quality than quantizing from F16/BF16/F32. Prefer a full-precision source."
    )


def level_name(level: str) -> str:
    name = level.upper()
    if name not in LEVELS:
        raise QuantizeError(
            f"Unknown quantization level '{level}'. Pick one of: {', '.join(LEVELS)}."
        )
    return name


class Quantization:
    """One running quantization; `cancel()` kills the child and removes the partial file.

    With `measure`, the child then times a short fixed generation with the source and the
    result: `source_tps` and `result_tps` (tokens/s) are set when `run()` returns, and
    `on_phase("measure")` is called when the measuring starts."""

    def __init__(
        self,
        source: Path,
        target: Path,
        level: str,
        *,
        allow_requantize: bool,
        on_progress: Callable[[int, int], None] | None = None,
        measure: bool = True,
        on_phase: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.level = level_name(level)
        self.measure = measure
        self.source_tps = 0.0
        self.result_tps = 0.0
        self._allow = allow_requantize
        self._on_progress = on_progress
        self._on_phase = on_phase
        self._cancelled = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()

    def run(self) -> Path:
        """Quantize (blocking); returns the target path or raises `QuantizeError`."""
        tmp = self.target.with_name(self.target.name + ".part")
        cmd = [
            sys.executable,
            "-m",
            "app.library.quantize_worker",
            str(self.source),
            str(tmp),
            LEVELS[self.level],
            "1" if self._allow else "0",
            "1" if self.measure else "0",
        ]
        with self._lock:
            if self._cancelled.is_set():
                raise QuantizeError("The quantization was cancelled.")
            self._proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
            )
        proc = self._proc
        assert proc.stderr is not None and proc.stdout is not None
        tail: list[bytes] = []
        with proc, proc.stderr, proc.stdout:
            for line in proc.stderr:
                m = _PROGRESS.search(line)
                if m and self._on_progress is not None:
                    self._on_progress(int(m.group(1)), int(m.group(2)))
                elif line.strip() == PHASE.encode() and self._on_phase is not None:
                    self._on_phase("measure")
                elif line.strip():
                    tail = [*tail[-4:], line.strip()]
            out = proc.stdout.read()
            code = proc.wait()
        if self._cancelled.is_set() or code != 0:
            tmp.unlink(missing_ok=True)
            if self._cancelled.is_set():
                raise QuantizeError("The quantization was cancelled; nothing was kept.")
            detail = b" ".join(tail).decode("utf-8", "replace")[-300:]
            raise QuantizeError(
                f"llama.cpp could not quantize '{self.source.name}' to {self.level} "
                f"(exit {code}: {detail}). Check the source model verifies and try another level."
            )
        if self.measure:
            self._read_speeds(out)
        tmp.replace(self.target)
        return self.target

    def _read_speeds(self, out: bytes) -> None:
        lines = out.decode("utf-8", "replace").strip().splitlines()
        try:
            speeds = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            speeds = {}
        self.source_tps = float(speeds.get("source_tps", 0.0))
        self.result_tps = float(speeds.get("result_tps", 0.0))
