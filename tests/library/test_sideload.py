"""Importing GGUF files (copied or linked), re-verifying them, model info and removal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.errors import NotAGGUFError, TruncatedGGUFError
from app.library.errors import DiskFullError, HashMismatchError, ImportModelError
from app.library.service import ModelLibrary
from app.library.sideload import sha256_file


def test_import_copy_link_and_info(
    library: ModelLibrary, smollm_path: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "usb"
    stick.mkdir()
    original = stick / "tiny-chat.Q4_1.gguf"
    shutil.copyfile(smollm_path, original)
    [copied] = library.import_path(original)
    assert not copied.linked and copied.sha256 == sha256_file(smollm_path)
    assert (library.models_dir / original.name).is_file()

    other = stick / "linked-model.gguf"
    shutil.copyfile(smollm_path, other)
    [linked] = library.import_path(other, link=True)
    assert linked.linked and linked.source == "link"
    placed = library.models_dir / other.name
    assert placed.is_symlink() and placed.resolve() == other.resolve()
    names = {m.name for m in library.registry.list()}
    assert {"tiny-chat.Q4_1", "linked-model"} <= names

    info = library.info("tiny-chat.Q4_1", n_ctx=2048)
    assert info["architecture"] == "llama"
    assert info["quant"] == "Q4_1"
    assert info["has_chat_template"] is True
    assert info["license"] == "apache-2.0"
    assert info["sha256"] == copied.sha256
    assert info["source"].startswith("imported from")
    assert info["fit"]["verdict"] in ("cpu", "full-gpu", "partial")
    assert info["library_disk_usage"] == smollm_path.stat().st_size  # the link counts 0

    library.remove("linked-model")
    assert not placed.exists() and other.exists(), "the original of a link stays"
    with pytest.raises(ImportModelError, match="already has"):
        library.import_path(original)


def test_bad_files_are_refused(library: ModelLibrary, smollm_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(smollm_path.read_bytes()[:5_000_000])
    with pytest.raises(TruncatedGGUFError, match="incomplete"):
        library.import_path(truncated)
    text = tmp_path / "notes.gguf"
    text.write_text("just some notes\n")
    with pytest.raises(NotAGGUFError):
        library.import_path(text)
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    with pytest.raises(ImportModelError, match=r"no \.gguf files"):
        library.import_path(empty)
    assert library.records.all() == []
    assert list(library.models_dir.glob("*.gguf")) == []


def test_folder_import_quota_and_reverify(
    library: ModelLibrary, smollm_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "carried"
    folder.mkdir()
    shutil.copyfile(smollm_path, folder / "a.gguf")
    library.quota = 1_000_000
    with pytest.raises(DiskFullError):
        library.import_path(folder)
    library.quota = None
    [record] = library.import_path(folder)
    assert library.verify("a").sha256 == record.sha256
    placed = library.models_dir / "a.gguf"
    data = bytearray(placed.read_bytes())
    data[-10] ^= 0xFF  # bit rot inside tensor data: the header still reads
    placed.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError, match="damaged"):
        library.verify("a")
