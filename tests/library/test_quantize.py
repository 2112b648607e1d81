"""Local quantization through llama.cpp: an F16 model made from a default model, then
quantized to Q8_0 and Q4_K_M; every result loads and generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.library.errors import QuantizeError
from app.library.gguf import read_header
from app.library.service import ModelLibrary

SMOL = "SmolLM2-135M-Instruct.Q4_1"


def _generates(path: Path) -> str:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False)
    try:
        out = llm.create_completion("The capital of France is", max_tokens=4, temperature=0.0)
        return str(out["choices"][0]["text"])  # type: ignore[index]
    finally:
        llm.close()


@pytest.mark.slow
def test_f16_then_q8_0_and_q4_k_m(library: ModelLibrary) -> None:
    steps: list[tuple[int, int]] = []
    f16, warning = library.quantize(SMOL, "f16", lambda d, t: steps.append((d, t)), measure=False)
    assert "already quantized" in warning
    assert f16.parent == SMOL and f16.source == "quantize"
    assert read_header(Path(f16.path)).file_type == "F16"
    assert steps and steps[-1][0] == steps[-1][1] == 272
    for level in ("Q8_0", "Q4_K_M"):
        result, warning = library.quantize(f16.name, level, measure=False)
        assert warning == ""
        assert result.parent == f16.name
        path = Path(result.path)
        assert read_header(path).file_type == level
        assert path.stat().st_size < Path(f16.path).stat().st_size
        assert _generates(path).strip()
        assert library.info(result.name)["source"] == f"quantized from {f16.name}"


def test_unknown_level_and_cancel(library: ModelLibrary) -> None:
    with pytest.raises(QuantizeError, match="Unknown quantization level"):
        library.quantize(SMOL, "Q9_9")
    holder: list[object] = []

    def cancel_at_first(done: int, total: int) -> None:
        holder[0].cancel()  # type: ignore[attr-defined]

    job, _ = library.start_quantize(SMOL, "Q8_0", cancel_at_first)
    holder.append(job)
    with pytest.raises(QuantizeError, match="cancelled"):
        library.finish_quantize(job, SMOL)
    assert list(library.models_dir.glob("*Q8_0*")) == []
