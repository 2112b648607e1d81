"""The embedder with int8 weights on torch (a model the person imported, on the CPU): close
to the fp32 model's vectors, the same model for queries and passages, and fp32 where int8
is not available."""

from __future__ import annotations

import numpy as np
import pytest

from app.rag.embedder import SentenceEmbedder
from tests.support.fixtures import EMBEDDER_TEXTS

TEXTS = EMBEDDER_TEXTS


def test_int8_on_torch() -> None:
    embedder = SentenceEmbedder(runtime="int8")
    assert embedder.active_runtime == "int8"
    fp32 = SentenceEmbedder(runtime="fp32")
    assert fp32.active_runtime == "fp32"
    a = np.asarray(embedder.embed(TEXTS))  # one batch (more texts than a query's call)
    b = np.asarray(fp32.embed(TEXTS))
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.95  # close to fp32's, not the same
    # The activations' int8 scale is the batch's, so a text alone (a query) gets a vector
    # close to, not the same as, the one it gets among others.
    alone = float(np.dot(embedder.embed([TEXTS[3]])[0], a[3]))
    assert 0.95 < alone < 1.0 + 1e-6
    # The nearest passage is the same with either model.
    for v in (a, b):
        assert [int(np.argmax(v[:3] @ v[q])) for q in (3, 4)] == [0, 1]


def test_stays_fp32_where_int8_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.ao.quantization

    def unavailable(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no quantized engine on this CPU")

    monkeypatch.setattr(torch.ao.quantization, "quantize_dynamic", unavailable)
    e = SentenceEmbedder(runtime="int8")
    assert e.active_runtime == "fp32"
    assert len(e.embed(TEXTS[:2])[0]) == 384


def test_unknown_runtime_is_refused() -> None:
    with pytest.raises(ValueError, match="runtime is one of auto, fp32, int8, onnx-int8"):
        SentenceEmbedder(runtime="tensorrt")


def test_bf16_on_torch_is_close_to_fp32() -> None:
    """The opt-in "bf16" runtime: the same weights, the matrix products under bfloat16
    autocast; its vectors and spans stay next to fp32's."""
    bf16 = SentenceEmbedder(runtime="bf16")
    assert bf16.active_runtime == "bf16"
    a = np.asarray(bf16.embed(TEXTS))
    b = np.asarray(SentenceEmbedder(runtime="fp32").embed(TEXTS))
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-3)
    assert (a * b).sum(axis=1).min() > 0.99
    [(whole, parts)] = bf16.embed_spans([TEXTS[0]], [[(0, 10), (10, len(TEXTS[0]))]])
    assert float(np.dot(whole, b[0])) > 0.99
    assert len(parts) == 2 and all(p is not None for p in parts)


def test_the_runtime_can_be_chosen_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.rag.embedder import RUNTIME_ENV

    monkeypatch.setenv(RUNTIME_ENV, "bf16")
    assert SentenceEmbedder().runtime == "bf16"
    assert SentenceEmbedder(runtime="fp32").runtime == "fp32"  # asked for: that one
    monkeypatch.setenv(RUNTIME_ENV, "fast")
    with caplog.at_level("WARNING"):
        assert SentenceEmbedder().runtime == "auto"
    assert "CARREL_EMBEDDER_RUNTIME=fast is not a runtime" in caplog.text
    monkeypatch.delenv(RUNTIME_ENV)
    assert SentenceEmbedder().runtime == "auto"
