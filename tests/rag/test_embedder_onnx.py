"""MiniLM on onnxruntime with int8 weights (the default runtime of the shipped model on a
CPU): exported and quantized from the model on disk into the cache once, reused after,
close to the fp32 model's vectors, pooled as sentence-transformers pools them; torch where
onnxruntime cannot be used."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from app.rag.cache_tidy import UNUSED_DAYS
from app.rag.embedder import SentenceEmbedder
from tests.support.fixtures import EMBEDDER_TEXTS
from tests.support.runners import inet_connects, traced_python

TEXTS = EMBEDDER_TEXTS


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


def test_the_embedding_tables_are_int8_too(onnx: SentenceEmbedder, cache: Path) -> None:
    """MiniLM's word-embedding table is 47 MB in fp32: quantized with the rest, the
    model the installer ships (and the cache keeps) is under half the fp32 file."""
    import onnx as onnx_format

    (made,) = (cache / "onnx").glob("*.onnx")
    ops = {node.op_type for node in onnx_format.load(str(made)).graph.node}
    assert "QEmbedLayerNormalization" in ops
    assert "EmbedLayerNormalization" not in ops
    assert made.stat().st_size < 30_000_000


def test_exported_once_and_kept_in_the_cache(
    onnx: SentenceEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.rag import onnx_runtime as ox

    made = sorted((cache / "onnx").glob("*.onnx"))
    assert len(made) == 1
    stamp = made[0].stat().st_mtime_ns

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(ox, "export", never)
    again = SentenceEmbedder(runtime="onnx-int8", cache_dir=cache)
    v = np.asarray(again.embed(TEXTS[:2]))
    assert sorted((cache / "onnx").glob("*.onnx")) == made
    assert made[0].stat().st_mtime_ns >= stamp  # marked as used (app.rag.cache_tidy)
    assert np.allclose(v, np.asarray(onnx.embed(TEXTS[:2])), atol=1e-5)
    assert not [p for p in (cache / "onnx").iterdir() if p.is_dir()]  # no half-made files


def test_exports_not_loaded_for_a_month_leave_the_cache(
    onnx: SentenceEmbedder, cache: Path, tmp_path: Path
) -> None:
    """An export an earlier Carrel or onnxruntime made under another name goes once no
    start has loaded it for `UNUSED_DAYS`; the one in use is marked, recent ones and what
    is not an export stay."""
    (made,) = (cache / "onnx").glob("*.onnx")
    folder = tmp_path / "onnx"
    folder.mkdir()
    shutil.copy(made, folder / made.name)
    old, recent = folder / "minilm-00000000000000aa.onnx", folder / "minilm-00000000000000bb.onnx"
    (folder / "tmp1234").mkdir()
    for path in (old, recent, folder / "tmp1234" / "model.onnx"):
        path.write_bytes(b"x")
    month = time.time() - 86400 * (UNUSED_DAYS + 1)
    for path in (old, folder / made.name, folder / "tmp1234"):
        os.utime(path, (month, month))
    SentenceEmbedder(runtime="onnx-int8", cache_dir=tmp_path).embed(TEXTS[:1])
    assert not old.exists()
    assert recent.exists() and (folder / "tmp1234" / "model.onnx").exists()
    assert (folder / made.name).stat().st_mtime > time.time() - 600


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


@pytest.fixture
def without_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a processor without AMX or VNNI, where "auto" runs onnxruntime int8 (on one
    with either it runs OpenVINO: tests/rag/test_embedder_openvino.py)."""
    from app.rag import openvino_runtime

    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: False)
    monkeypatch.setattr(openvino_runtime, "has_vnni", lambda: False)


def test_auto_runs_the_shipped_model_on_onnxruntime(cache: Path, without_amx: None) -> None:
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "onnx-int8"
    # A model the person imported runs on torch (the export is made for MiniLM's kind).
    path = SentenceEmbedder(runtime="fp32")._model_dir()
    assert SentenceEmbedder(str(path), cache_dir=cache).active_runtime == "int8"


def test_auto_falls_back_to_torch_and_says_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    without_amx: None,
) -> None:
    from app.rag import onnx_runtime as ox

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ox, "export", broken)
    caplog.set_level(logging.INFO)  # a full disk is said at INFO: the ingest says it as its line
    e = SentenceEmbedder(cache_dir=tmp_path)
    assert len(e.embed(TEXTS[:2])) == 2
    assert e.active_runtime == "int8"
    assert "No space left on device" in caplog.text
    # Nothing half-made left behind; the model's digest, whole, is kept (app.rag.digest).
    assert [p.name for p in (tmp_path / "onnx").glob("*")] == ["model-digests.json"]
    with pytest.raises(OSError, match="No space left"):  # asked for by name: the error
        SentenceEmbedder(runtime="onnx-int8", cache_dir=tmp_path).embed(TEXTS[:1])


def test_onnxruntime_sends_nothing_and_keeps_no_device_id(tmp_path: Path) -> None:
    """onnxruntime's telemetry (DNS lookups of Microsoft's collector, a device id under
    ~/.cache/Microsoft) stays off in a fresh process that exports the model: the process
    is run under strace and must make no connection but to local sockets."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "from pathlib import Path\n"
        "from app.rag.embedder import SentenceEmbedder\n"
        f"e = SentenceEmbedder(runtime='onnx-int8', cache_dir=Path({str(tmp_path / 'cache')!r}))\n"
        "assert e.active_runtime == 'onnx-int8'\n"
        "print(len(e.embed(['a printer driver'])[0]))\n"
    )
    trace = tmp_path / "trace"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["HOME"] = str(home)
    env.pop("XDG_CACHE_HOME", None)
    done = traced_python(script, trace, env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "384"
    assert not inet_connects(trace), inet_connects(trace)
    assert not (home / ".cache" / "Microsoft").exists()


def test_an_installed_app_uses_the_model_its_build_made(
    onnx: SentenceEmbedder,
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    without_amx: None,
) -> None:
    """The installer's build exports the model into `resources/embedder/` (installer.spec):
    found there, nothing is exported and the cache holds only the model's digest (so the
    next start does not read the weights to find that file's name, `app.rag.digest`)."""
    from app.rag import onnx_runtime as ox

    made = ox.cached_model(onnx._model_dir(), cache, ox.DEFAULT_RECIPE)  # made already
    (tmp_path / "res" / ox.SHIPPED).mkdir(parents=True)
    shutil.copy(made, tmp_path / "res" / ox.SHIPPED / made.name)
    monkeypatch.setattr(ox, "resource", lambda *parts: tmp_path.joinpath("res", *parts))

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported although the build made the model")

    monkeypatch.setattr(ox, "export", never)
    empty = tmp_path / "cache"
    e = SentenceEmbedder(cache_dir=empty)
    assert e.active_runtime == "onnx-int8"
    assert np.allclose(np.asarray(e.embed(TEXTS[:2])), np.asarray(onnx.embed(TEXTS[:2])), atol=1e-5)
    assert [p.name for p in empty.rglob("*") if p.is_file()] == ["model-digests.json"]


def test_calls_keep_to_their_bounds() -> None:
    from app.rag.onnx_runtime import _calls

    lengths = [12, 12, 20, 30, 200, 250, 256, 256, 256, 256, 256, 900]
    order = list(range(len(lengths)))
    by_texts = list(_calls(order, lengths, 4, None))
    assert by_texts == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    by_tokens = list(_calls(order, lengths, 32, 1024))
    assert [i for call in by_tokens for i in call] == order  # each text once, in order
    for call in by_tokens:
        assert len(call) == 1 or len(call) * max(lengths[i] for i in call) <= 1024
    assert by_tokens[0] == [0, 1, 2, 3, 4]  # short texts share a call
    assert by_tokens[-1] == [11]  # a text past the budget goes alone
    assert [len(c) for c in _calls(list(range(40)), [5] * 40, 32, 1024)] == [32, 8]


def test_the_call_size_changes_no_vector(cache: Path) -> None:
    """With fp32 weights the network gives each text the same vector whatever shares its
    call: padding is masked, and the texts come back in their own places."""
    from app.rag import onnx_runtime as ox

    folder = SentenceEmbedder(runtime="fp32")._model_dir()
    model = ox.cached_model(folder, cache, ox.Recipe(quantized=False))
    encoder = ox.OnnxEncoder(folder, model, threads=1)
    texts = [*TEXTS, TEXTS[0] * 6, "Short."]
    whole = encoder.encode(texts, 32)
    for most, tokens in ((1, None), (4, None), (32, 40), (32, 1024)):
        assert np.allclose(encoder.encode(texts, most, tokens), whole, atol=1e-4)
