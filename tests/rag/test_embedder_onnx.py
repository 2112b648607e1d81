"""MiniLM on onnxruntime with int8 weights (`runtime="onnx-int8"`, opt-in; skipped where
onnxruntime is not installed, as it is not a dependency): exported and quantized
from the model on disk into the cache once, reused after, close to the fp32 model's vectors,
and pooled as sentence-transformers pools them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.rag.embedder import SentenceEmbedder

pytest.importorskip("onnxruntime")

TEXTS = [
    "Printer drivers\n\nThe driver sends the page to the printer at the chosen resolution.",
    "Package management\n\napt-get install fetches a package and the packages it depends on.",
    "Tea\n\nThe first flush is plucked in spring; black tea is fully oxidised.",
    "How do I add a printer?",
    "installing software with dependencies",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def onnx(cache: Path) -> SentenceEmbedder:
    e = SentenceEmbedder(runtime="onnx-int8", cache_dir=cache)
    assert e.active_runtime == "onnx-int8"
    return e


def test_close_to_fp32_and_unit_length(onnx: SentenceEmbedder, embedder: SentenceEmbedder) -> None:
    fp32 = SentenceEmbedder(runtime="fp32")
    a = np.asarray(onnx.embed(TEXTS))
    b = np.asarray(fp32.embed(TEXTS))
    assert a.shape == (5, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.97
    # The nearest passage is the one fp32 finds.
    assert [int(np.argmax(a[:3] @ a[q])) for q in (3, 4)] == [0, 1]


def test_exported_once_and_kept_in_the_cache(onnx: SentenceEmbedder, cache: Path) -> None:
    made = sorted((cache / "onnx").glob("*.onnx"))
    assert len(made) == 1
    stamp = made[0].stat().st_mtime_ns
    again = SentenceEmbedder(runtime="onnx-int8", cache_dir=cache)
    v = np.asarray(again.embed(TEXTS[:2]))
    assert sorted((cache / "onnx").glob("*.onnx")) == made
    assert made[0].stat().st_mtime_ns == stamp
    assert np.allclose(v, np.asarray(onnx.embed(TEXTS[:2])), atol=1e-5)
    assert not [p for p in (cache / "onnx").iterdir() if p.is_dir()]  # no half-made files


def test_spans_pool_the_same_tokens(onnx: SentenceEmbedder) -> None:
    text = TEXTS[0]
    cut = text.index("The driver")
    [(whole, parts)] = onnx.embed_spans([text], [[(0, cut - 2), (cut, len(text))]])
    assert np.allclose(whole, np.asarray(onnx.embed([text])[0]), atol=1e-4)
    assert len(parts) == 2 and all(p is not None for p in parts)
    assert float(np.dot(parts[1], whole)) > 0.8  # type: ignore[arg-type]


def test_pooling_is_sentence_transformers_own(cache: Path) -> None:
    """The fp32 export through the same tokenizer and pooling gives torch's vectors: any
    difference in the int8 model comes from the int8 weights alone."""
    from app.rag import onnx_runtime as ox

    e = SentenceEmbedder(runtime="fp32")
    folder = e._model_dir()
    model = ox.cached_model(folder, cache, ox.Recipe(quantized=False))
    vectors = ox.OnnxEncoder(folder, model, threads=1).encode(TEXTS)
    assert (vectors * np.asarray(e.embed(TEXTS))).sum(axis=1).min() > 0.9999


def test_auto_stays_on_torch(cache: Path) -> None:
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "int8"
