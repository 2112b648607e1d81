"""MiniLM on OpenVINO in bfloat16 (the shipped model's runtime on a processor with AMX):
the fp32 export made into a network with fp16 weights and compiled, once, and kept;
vectors at fp32's, the same tokens and pooling as onnxruntime's, safe from two threads,
nothing sent; "auto" takes it only on AMX and falls back to onnxruntime int8 when it cannot
load; with int8 weights where there is VNNI and no AMX, its network kept too; what no
start has used leaves the cache, and a cache with no room still loads."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.rag import digest, openvino_runtime
from app.rag import embedder as embedder_module
from app.rag.cache_tidy import UNUSED_DAYS
from app.rag.embedder import SentenceEmbedder
from app.rag.onnx_runtime import export_name
from tests.support.disks import fill, tmpfs
from tests.support.fixtures import EMBEDDER_TEXTS
from tests.support.runners import inet_connects, traced_python

TEXTS = EMBEDDER_TEXTS


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    # What an earlier Carrel kept for OpenVINO: the fp32 export itself.
    model_dir = SentenceEmbedder(runtime="fp32")._model_dir()
    (cache / "onnx").mkdir()
    old = export_name(model_dir, openvino_runtime.FP32_RECIPE)
    (cache / "onnx" / old).write_bytes(b"an earlier Carrel's fp32 export")
    return cache


@pytest.fixture(scope="module")
def openvino(cache: Path) -> SentenceEmbedder:
    e = SentenceEmbedder(runtime="openvino", cache_dir=cache)
    assert e.active_runtime == "openvino"
    return e


def network_copied(cache: Path, into: Path) -> Path:
    """OpenVINO's network (IR, fp16 weights) of `cache` copied into the cache `into`, not
    its compiled form; returns the folder."""
    folder = into / "onnx" / "openvino"
    folder.mkdir(parents=True)
    [source] = (cache / "onnx" / "openvino").glob("minilm-ov-*.xml")
    for made in (source, source.with_suffix(".bin")):
        shutil.copy(made, folder / made.name)
    return folder


def test_vectors_are_fp32_s(openvino: SentenceEmbedder) -> None:
    """bfloat16 products with fp32 accumulation (fp32 itself on a processor without bf16):
    the vectors are torch fp32's, closer than onnxruntime's int8 ones (0.97)."""
    a = np.asarray(openvino.embed(TEXTS))
    b = np.asarray(SentenceEmbedder(runtime="fp32").embed(TEXTS))
    assert a.shape == (5, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.999


def test_spans_pool_the_same_tokens(openvino: SentenceEmbedder) -> None:
    text = TEXTS[0]
    cut = text.index("The driver")
    [(whole, parts)] = openvino.embed_spans([text], [[(0, cut - 2), (cut, len(text))]])
    assert np.allclose(whole, np.asarray(openvino.embed([text])[0]), atol=1e-4)
    assert len(parts) == 2 and all(p is not None for p in parts)


def test_the_compiled_network_is_kept(openvino: SentenceEmbedder, cache: Path) -> None:
    """The fp32 export is made once into OpenVINO's IR with fp16 weights (half the export's
    size), and the export itself is not kept (one an earlier Carrel kept is removed);
    OpenVINO keeps its compiled network in a folder named after it, so a later start loads
    it instead of compiling again."""
    folder = cache / "onnx" / "openvino"
    [bin_file, xml] = sorted(folder.glob("minilm-ov-*.*"))
    assert (bin_file.suffix, xml.suffix) == (".bin", ".xml")
    assert 40e6 < bin_file.stat().st_size < 50e6  # fp32's would be ~90 MB
    assert not list((cache / "onnx").glob("*.onnx"))
    assert list((folder / xml.stem).glob("*.blob"))
    compiled = sorted(folder.rglob("*"))
    again = SentenceEmbedder(runtime="openvino", cache_dir=cache)
    v = np.asarray(again.embed(TEXTS[:2]))
    assert sorted(folder.rglob("*")) == compiled
    assert np.allclose(v, np.asarray(openvino.embed(TEXTS[:2])), atol=1e-4)


def test_a_later_start_does_not_read_the_weights(
    openvino: SentenceEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's digest, which names the kept networks, is kept in the cache too: a later
    start finds its network without reading the model's 87 MB (`app.rag.digest`)."""
    assert (cache / "onnx" / digest.MEMO).is_file()

    def read(model_dir: Path) -> str:
        raise AssertionError(f"{model_dir}'s weights were read")

    monkeypatch.setattr(digest, "_compute", read)
    again = SentenceEmbedder(runtime="openvino", cache_dir=cache)
    v = np.asarray(again.embed(TEXTS[:2]))
    assert np.allclose(v, np.asarray(openvino.embed(TEXTS[:2])), atol=1e-4)


def test_two_threads_at_once(openvino: SentenceEmbedder) -> None:
    """A search's question and an ingest's passages may be embedded at the same moment:
    the calls take turns on the one infer request."""
    expected = np.asarray(openvino.embed(TEXTS))
    results: dict[int, np.ndarray] = {}

    def run(k: int) -> None:
        for _ in range(5):
            results[k] = np.asarray(openvino.embed(TEXTS))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.allclose(v, expected, atol=1e-4) for v in results.values())


def test_auto_takes_openvino_only_on_amx(
    openvino: SentenceEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedder_module, "OPENVINO_ON_AMX", True)
    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: True)
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "openvino"
    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: False)
    monkeypatch.setattr(openvino_runtime, "has_vnni", lambda: False)
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "onnx-int8"


def test_auto_falls_back_to_onnxruntime_and_says_why(
    openvino: SentenceEmbedder,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Exception from src/inference: the CPU plugin failed")

    monkeypatch.setattr(embedder_module, "OPENVINO_ON_AMX", True)
    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: True)
    monkeypatch.setattr(openvino_runtime, "OpenVinoNetwork", broken)
    caplog.set_level(logging.WARNING)
    e = SentenceEmbedder(cache_dir=cache)
    assert e.active_runtime == "onnx-int8"
    assert len(e.embed(TEXTS[:2])) == 2
    assert "could not run on OpenVINO" in caplog.text and "CPU plugin failed" in caplog.text
    with pytest.raises(RuntimeError, match="CPU plugin"):  # asked for by name: the error
        SentenceEmbedder(runtime="openvino", cache_dir=cache).embed(TEXTS[:1])


def test_openvino_sends_nothing(openvino: SentenceEmbedder, cache: Path, tmp_path: Path) -> None:
    """OpenVINO's package brings `openvino-telemetry` along: a fresh process that compiles
    the network and embeds is run under strace and must make no connection but to local
    sockets, nor leave a telemetry id in its home."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    home = tmp_path / "home"
    home.mkdir()
    fresh = tmp_path / "cache"
    network_copied(cache, fresh)
    script = (
        "from pathlib import Path\n"
        "from app.rag.embedder import SentenceEmbedder\n"
        f"e = SentenceEmbedder(runtime='openvino', cache_dir=Path({str(fresh)!r}))\n"
        "print(len(e.embed(['a printer driver'])[0]))\n"
    )
    trace = tmp_path / "trace"
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CACHE_HOME", None)
    done = traced_python(script, trace, env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "384"
    assert not inet_connects(trace), inet_connects(trace)
    assert not (home / "intel").exists()  # openvino-telemetry's client id


def test_calls_are_bound_by_tokens_and_move_no_vector(openvino: SentenceEmbedder) -> None:
    """OpenVINO's calls take texts while their padded size stays within 1,024 tokens (short
    table rows share a call); bf16 has no per-call scale, so calls of four texts give the
    same vectors."""
    assert openvino._onnx_calls() == (32, 1024)
    rows = [f"Country: Norway; Code: NO; Row {i}" for i in range(12)] + TEXTS
    bound = np.asarray(openvino.embed(rows))
    openvino.onnx_call_tokens = 0  # by texts only, four a call
    try:
        assert openvino._onnx_calls() == (4, None)
        by_texts = np.asarray(openvino.embed(rows))
    finally:
        openvino.onnx_call_tokens = None
    assert (bound * by_texts).sum(axis=1).min() > 0.999


@pytest.fixture(scope="module")
def openvino_int8(cache: Path) -> SentenceEmbedder:
    if not openvino_runtime.has_vnni():
        pytest.skip("OpenVINO's int8 kernels need AVX-512 VNNI")
    e = SentenceEmbedder(runtime="openvino-int8", cache_dir=cache)
    assert e.active_runtime == "openvino-int8"
    return e


def test_int8_weights_are_int8(cache: Path, openvino: SentenceEmbedder) -> None:
    """The 36 linear layers' weights become int8 (six layers of query, key, value, output
    and the two feed-forward products); the attention's own products stay as they were."""
    import openvino as ov

    network = openvino_runtime.openvino_model(openvino._model_dir(), cache)
    # The MatMuls named by `skip` stay fp32 (a layer's six here), under another name.
    first = ("/layer.0/",)
    assert openvino_runtime.int8_weights(ov.Core().read_model(str(network)), first) == 30
    assert openvino_runtime.int8_name(network, first) != openvino_runtime.int8_name(network)
    model = ov.Core().read_model(str(network))
    assert openvino_runtime.int8_weights(model) == 36
    types = {
        op.get_element_type().get_type_name()
        for op in model.get_ordered_ops()
        if op.get_type_name() == "Constant" and len(op.get_output_shape(0)) == 2
    }
    assert "i8" in types


def test_int8_vectors_are_close_to_fp32_s(
    openvino_int8: SentenceEmbedder, openvino: SentenceEmbedder
) -> None:
    """int8 weights with activations quantized per token: closer to fp32's vectors than
    onnxruntime's int8 (0.97 on these texts)."""
    a = np.asarray(openvino_int8.embed(TEXTS))
    b = np.asarray(openvino.embed(TEXTS))
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.99


def test_int8_calls_move_no_vector(openvino_int8: SentenceEmbedder) -> None:
    """Activations are quantized per token, not per call: a text's vector stays where it
    was alone when it is beside others (lowest cosine 0.99986 on these texts with the
    network's fp16 weights, 0.99999 from the fp32 export; onnxruntime int8, which
    quantizes per call, moves them to 0.992)."""
    together = np.asarray(openvino_int8.embed(TEXTS))
    alone = np.asarray([openvino_int8.embed([t])[0] for t in TEXTS])
    assert (together * alone).sum(axis=1).min() > 0.9995


def test_auto_takes_int8_on_vnni_without_amx_when_picked(
    openvino_int8: SentenceEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: False)
    monkeypatch.setattr(openvino_runtime, "has_vnni", lambda: True)
    monkeypatch.setattr(embedder_module, "OPENVINO_INT8_ON_VNNI", True)
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "openvino-int8"
    monkeypatch.setattr(embedder_module, "OPENVINO_INT8_ON_VNNI", False)
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "onnx-int8"


def test_a_kernel_the_processor_lacks_fails_at_load(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenVINO's int8 kernels without VNNI fail at the first call, not when compiling: the
    load's warm-up call makes that a load error, which "auto" falls back from."""
    calls: list[int] = []

    def fails(self: object, feed: object) -> None:
        calls.append(1)
        raise RuntimeError("[CPU] FullyConnectedCompressed could not create a primitive")

    monkeypatch.setattr(openvino_runtime.OpenVinoNetwork, "__call__", fails)
    monkeypatch.setattr(openvino_runtime, "has_amx", lambda: False)
    monkeypatch.setattr(openvino_runtime, "has_vnni", lambda: True)
    monkeypatch.setattr(embedder_module, "OPENVINO_INT8_ON_VNNI", True)
    caplog.set_level(logging.WARNING)
    assert SentenceEmbedder(cache_dir=cache).active_runtime == "onnx-int8"
    assert calls and "could not run on OpenVINO with int8 weights" in caplog.text


def kept_int8(cache: Path) -> list[Path]:
    return sorted((cache / "onnx" / "openvino").glob("minilm-int8-*.*"))


def test_the_int8_network_is_kept(
    openvino_int8: SentenceEmbedder, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made int8 once and kept as OpenVINO's own format: a later start compiles from it
    (from OpenVINO's cache) without reading the export or making its weights int8 again."""
    kept = kept_int8(cache)
    assert [p.suffix for p in kept] == [".bin", ".xml"]

    def again(model: object) -> int:
        raise AssertionError("the export was made int8 again")

    monkeypatch.setattr(openvino_runtime, "int8_weights", again)
    later = SentenceEmbedder(runtime="openvino-int8", cache_dir=cache)
    assert later.active_runtime == "openvino-int8"
    assert kept_int8(cache) == kept
    a, b = np.asarray(later.embed(TEXTS)), np.asarray(openvino_int8.embed(TEXTS))
    assert np.allclose(a, b, atol=1e-5)


def test_a_damaged_int8_network_is_made_again(
    openvino_int8: SentenceEmbedder, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [_, xml] = kept_int8(cache)
    xml.write_text("<net", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    later = SentenceEmbedder(runtime="openvino-int8", cache_dir=cache)
    assert later.active_runtime == "openvino-int8"
    assert "kept int8 network could not be read, made again" in caplog.text
    assert xml.read_text(encoding="utf-8").startswith("<?xml")
    a, b = np.asarray(later.embed(TEXTS)), np.asarray(openvino_int8.embed(TEXTS))
    assert np.allclose(a, b, atol=1e-5)


def test_a_full_disk_leaves_the_int8_network_in_memory(
    openvino_int8: SentenceEmbedder,
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Where the int8 network cannot be kept, the embedder still loads, and says so."""
    import openvino as ov

    openvino_runtime.openvino_model(openvino_int8._model_dir(), cache)
    network_copied(cache, tmp_path)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ov, "save_model", full)
    caplog.set_level(logging.WARNING)
    later = SentenceEmbedder(runtime="openvino-int8", cache_dir=tmp_path)
    assert later.active_runtime == "openvino-int8"
    assert "int8 network was not kept (" in caplog.text and "No space left" in caplog.text
    assert kept_int8(tmp_path) == []
    a, b = np.asarray(later.embed(TEXTS)), np.asarray(openvino_int8.embed(TEXTS))
    assert np.allclose(a, b, atol=1e-5)


def test_networks_not_loaded_for_a_month_leave_the_cache(
    openvino: SentenceEmbedder, cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What an earlier Carrel or OpenVINO kept (a network under another name, compiled
    networks loose in the folder as before) goes once no start has loaded it for
    `UNUSED_DAYS`; the network in use, the one an int8 network is made from, networks used
    lately and anything not Carrel's stay."""
    folder = network_copied(cache, tmp_path)
    [source] = folder.glob("minilm-ov-*.xml")
    month = 86400 * (UNUSED_DAYS + 1)
    old = ["minilm-int8-00000000000000aa.xml", "minilm-int8-00000000000000aa.bin"]
    old += ["minilm-int8-00000000000000aa/1.blob", "4187183016618782922.blob"]
    recent = ["minilm-ov-00000000000000bb.xml", "minilm-ov-00000000000000bb/2.blob"]
    others = ["tmp1234/model.bin", "notes.txt"]
    for name in old + recent + others:
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(b"x")
    for path in folder.rglob("*"):
        if "bb" not in path.as_posix():
            os.utime(path, (time.time() - month,) * 2)
    export = tmp_path / "onnx" / "minilm-00000000000000dd.onnx"  # onnxruntime's, unused
    export.write_bytes(b"x")
    os.utime(export, (time.time() - month,) * 2)
    caplog.set_level(logging.INFO)
    int8 = SentenceEmbedder(runtime="openvino-int8", cache_dir=tmp_path)
    int8.embed(TEXTS[:1])
    left = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert not left & set(old)
    assert set(recent + others) <= left
    assert {source.name, source.with_suffix(".bin").name} <= left  # the int8 one's source
    [network] = kept_int8(tmp_path)[1:]
    assert list((folder / network.stem).glob("*.blob"))  # the one in use, compiled
    assert "removed minilm-int8-00000000000000aa from the cache" in caplog.text
    assert "removed 4187183016618782922.blob" in caplog.text
    assert not export.exists()


def test_a_cache_folder_that_cannot_be_made_compiles_at_each_start(
    openvino: SentenceEmbedder, cache: Path, tmp_path: Path
) -> None:
    """OpenVINO refuses a cache folder it cannot make; the network then compiles without
    one rather than fail to load."""
    folder = network_copied(cache, tmp_path)
    [source] = folder.glob("minilm-ov-*.xml")
    (folder / source.stem).write_text("a file where the compiled network's folder goes")
    later = SentenceEmbedder(runtime="openvino", cache_dir=tmp_path)
    assert later.active_runtime == "openvino"
    v = np.asarray(later.embed(TEXTS[:2]))
    assert np.allclose(v, np.asarray(openvino.embed(TEXTS[:2])), atol=1e-4)


def test_a_full_disk_still_loads_openvino(
    openvino: SentenceEmbedder, cache: Path, tmp_path: Path
) -> None:
    """With its network kept and no room left for the compiled form, OpenVINO loads."""
    with tmpfs(64) as disk:
        network_copied(cache, disk)
        fill(disk, 0)
        later = SentenceEmbedder(runtime="openvino", cache_dir=disk)
        assert later.active_runtime == "openvino"
        v = np.asarray(later.embed(TEXTS[:2]))
        assert np.allclose(v, np.asarray(openvino.embed(TEXTS[:2])), atol=1e-4)
