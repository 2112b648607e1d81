"""A person's cross-encoder on the embedder's engines (`app.rag.cross_runtime`): the same
scores as sentence-transformers on torch, pair by pair, on a small cross-encoder built here
with random weights (plumbing; the speed and the agreement at MiniLM's size are measured by
`tests/bench/bench_rag_models.py`)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.rag.cross_runtime import (
    UnsupportedCrossEncoder,
    activation_name,
    auto_engines,
    load_cross_encoder,
    max_length,
)
from app.rag.rerank import CrossEncoderReranker
from tests.support.tinymodels import save_tiny_cross_encoder

QUERY = "how is the network interface configured"
# Short and long passages (the longest past the model's 128 word pieces, so the pair is cut)
# and one that shares no word with the query.
TEXTS = [
    "The network interface is configured in /etc/network/interfaces. " * k for k in (1, 4, 30)
] + ["short", "A recipe for bread: flour, water, salt and yeast, left overnight to rise."]


@pytest.fixture(scope="module")
def cross(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_cross_encoder(tmp_path_factory.mktemp("cross") / "ce")


@pytest.fixture(scope="module")
def torch_scores(cross: Path) -> list[float]:
    """What sentence-transformers' `CrossEncoder.predict` gives on torch."""
    return CrossEncoderReranker(cross, runtime="torch").score(QUERY, TEXTS)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _variant(cross: Path, where: Path, **config: Any) -> Path:
    """`cross` copied to `where` with `config` merged into the files it names."""
    shutil.copytree(cross, where)
    for name, changes in config.items():
        path = where / f"{name}.json"
        data = json.loads(path.read_text()) if path.is_file() else {}
        path.write_text(json.dumps(data | changes))
    return where


@pytest.mark.parametrize("engine", ["onnx-fp32", "openvino"])
def test_fp32_engines_score_as_torch_does(
    cross: Path, cache: Path, torch_scores: list[float], engine: str
) -> None:
    model = load_cross_encoder(engine, cross, cache)
    assert model.engine == engine
    assert np.allclose(model.score(QUERY, TEXTS), torch_scores, atol=1e-5)
    # A pair's score does not depend on the order or company it is asked in.
    one = model.score(QUERY, TEXTS[2:3])
    assert np.allclose(one, torch_scores[2:3], atol=1e-5)


@pytest.mark.parametrize("engine", ["onnx-int8", "openvino-int8"])
def test_int8_engines_run_close_to_torch(
    cross: Path, cache: Path, torch_scores: list[float], engine: str
) -> None:
    model = load_cross_encoder(engine, cross, cache)
    assert np.allclose(model.score(QUERY, TEXTS), torch_scores, atol=1e-3)


def test_auto_runs_on_the_first_engine_and_keeps_its_export(
    cross: Path, tmp_path: Path, torch_scores: list[float]
) -> None:
    reranker = CrossEncoderReranker(cross, cache_dir=tmp_path)
    assert reranker.active_runtime == auto_engines()[0]
    close = 1e-3 if "int8" in reranker.active_runtime else 1e-5
    assert np.allclose(reranker.score(QUERY, TEXTS), torch_scores, atol=close)
    assert reranker.score(QUERY, []) == []
    kept = sorted(p for p in (tmp_path / "onnx").rglob("*") if p.is_file())
    again = CrossEncoderReranker(cross, cache_dir=tmp_path)
    assert again.active_runtime == reranker.active_runtime
    assert sorted(p for p in (tmp_path / "onnx").rglob("*") if p.is_file()) == kept


def test_a_model_the_engines_cannot_reproduce_runs_on_torch(
    cross: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An activation sentence-transformers knows and these engines do not: torch runs it,
    the log says why, and nothing was exported."""
    softplus = "torch.nn.modules.activation.Softplus"
    odd = _variant(cross, tmp_path / "ce", config_sentence_transformers={"activation_fn": softplus})
    with pytest.raises(UnsupportedCrossEncoder, match="Softplus"):
        activation_name(odd)
    reranker = CrossEncoderReranker(odd, name="odd", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="app.rag.rerank"):
        assert reranker.active_runtime == "torch"
    assert "could not run on" in caplog.text and "Softplus" in caplog.text
    assert len(reranker.score(QUERY, TEXTS)) == len(TEXTS)
    assert not (tmp_path / "cache" / "onnx").exists()


def test_an_engine_asked_for_by_name_fails_with_the_reason(cross: Path, tmp_path: Path) -> None:
    from app.rag.errors import RerankerUnavailableError

    two = _variant(cross, tmp_path / "ce", config={"id2label": {"0": "no", "1": "yes"}})
    with pytest.raises(RerankerUnavailableError, match=r"cannot run on onnx-fp32: .*2 scores"):
        CrossEncoderReranker(two, runtime="onnx-fp32", cache_dir=tmp_path).score(QUERY, TEXTS)


def test_activation_and_length_are_read_as_sentence_transformers_reads_them(
    cross: Path, tmp_path: Path
) -> None:
    assert activation_name(cross) == "Sigmoid"  # what the saved model names
    assert max_length(cross) == 128  # its tokenizer's, at most its 128 positions
    plain = _variant(
        cross,
        tmp_path / "a",
        config_sentence_transformers={"activation_fn": "torch.nn.modules.linear.Identity"},
        tokenizer_config={"model_max_length": 1e30},
    )
    assert activation_name(plain) == "Identity"
    assert max_length(plain) == 128  # a tokenizer without a length: the positions'
    named = _variant(cross, tmp_path / "b", sentence_bert_config={"max_seq_length": 64})
    assert max_length(named) == 64
    older = _variant(cross, tmp_path / "c", config={"sbert_ce_default_activation_function": "x"})
    (older / "config_sentence_transformers.json").unlink()
    with pytest.raises(UnsupportedCrossEncoder, match="not known"):
        activation_name(older)


def test_identity_activation_gives_the_logits(cross: Path, tmp_path: Path) -> None:
    """A model naming Identity gets the head's raw logits; the saved one, sigmoid of them."""
    named = {"activation_fn": "torch.nn.modules.linear.Identity"}
    raw = _variant(cross, tmp_path / "raw", config_sentence_transformers=named)
    logits = np.array(load_cross_encoder("onnx-fp32", raw, tmp_path / "cache").score(QUERY, TEXTS))
    sigmoid = load_cross_encoder("onnx-fp32", cross, tmp_path / "cache").score(QUERY, TEXTS)
    assert np.allclose(1 / (1 + np.exp(-logits)), sigmoid, atol=1e-6)


def test_off_torch_the_process_never_imports_torch(cross: Path, tmp_path: Path) -> None:
    """The export's child imports torch and exits; the process that reranks never does (on
    torch the reranker's process held ~470 MB more: BENCHMARKS.md, twenty-fourth round)."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from app.rag.rerank import CrossEncoderReranker;"
        "r = CrossEncoderReranker(Path(sys.argv[1]), cache_dir=Path(sys.argv[2]));"
        "r.score('q', ['a passage']); print(r.active_runtime, 'torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(cross), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == [auto_engines()[0], "False"]
