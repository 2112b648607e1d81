"""The model's digest kept between starts (`app.rag.digest`): read from the memo while the
files are as they were, computed again when one changes (even to the same size and time),
and a memo that cannot be read or written costs a recomputation, never a wrong digest."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from app.rag import digest
from app.rag.digest import MEMO, model_hash
from tests.support.disks import fill, tmpfs


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 384}')
    (folder / "model.safetensors").write_bytes(os.urandom(3 << 20))
    return folder


def _not_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(model_dir: Path) -> str:
        raise AssertionError(f"{model_dir}'s files were read")

    monkeypatch.setattr(digest, "_compute", fail)


def test_the_memo_answers_while_the_files_are_unchanged(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo_dir = tmp_path / "cache"
    first = model_hash(model_dir, memo_dir)
    assert first == model_hash(model_dir)  # the same digest as without a memo
    assert json.loads((memo_dir / MEMO).read_text())[str(model_dir.resolve())]["digest"] == first
    _not_computed(monkeypatch)
    assert model_hash(model_dir, memo_dir) == first


def test_a_file_changed_to_the_same_size_and_time_is_read_again(
    model_dir: Path, tmp_path: Path
) -> None:
    memo_dir = tmp_path / "cache"
    first = model_hash(model_dir, memo_dir)
    weights = model_dir / "model.safetensors"
    before = weights.stat()
    weights.write_bytes(os.urandom(before.st_size))  # other weights, same size
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    second = model_hash(model_dir, memo_dir)
    assert second != first
    assert second == model_hash(model_dir)


def test_a_file_added_is_read_again(model_dir: Path, tmp_path: Path) -> None:
    memo_dir = tmp_path / "cache"
    first = model_hash(model_dir, memo_dir)
    (model_dir / "pytorch_model.bin").write_bytes(b"weights in torch's format too")
    assert model_hash(model_dir, memo_dir) != first


def test_a_damaged_memo_is_computed_again_and_mended(
    model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    memo_dir = tmp_path / "cache"
    first = model_hash(model_dir, memo_dir)
    (memo_dir / MEMO).write_bytes(b'{"half a memo')
    with caplog.at_level(logging.INFO, logger="app.rag.digest"):
        assert model_hash(model_dir, memo_dir) == first
    assert "not read" in caplog.text
    assert json.loads((memo_dir / MEMO).read_text())[str(model_dir.resolve())]["digest"] == first


def test_a_memo_of_another_shape_is_ignored(model_dir: Path, tmp_path: Path) -> None:
    memo_dir = tmp_path / "cache"
    memo_dir.mkdir()
    (memo_dir / MEMO).write_text(json.dumps({str(model_dir.resolve()): {"digest": "forged"}}))
    assert model_hash(model_dir, memo_dir) == model_hash(model_dir)


def test_a_full_disk_skips_the_memo_and_keeps_the_one_there(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tmpfs(1) as disk:
        other = model_dir.parent / "other"
        other.mkdir()
        (other / "config.json").write_text("{}")
        kept = model_hash(other, disk)
        fill(disk, 0)
        with caplog.at_level(logging.WARNING, logger="app.rag.digest"):
            assert model_hash(model_dir, disk) == model_hash(model_dir)
        assert "computed at each start" in caplog.text
        memo = json.loads((disk / MEMO).read_text())
        assert memo[str(other.resolve())]["digest"] == kept  # not truncated
        assert [p.name for p in disk.iterdir() if p.name.startswith(".digests-")] == []


def test_a_memo_folder_that_cannot_be_made_still_gives_the_digest(
    model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="app.rag.digest"):
        assert model_hash(model_dir, blocked / "cache") == model_hash(model_dir)
    assert "not kept" in caplog.text


def test_a_bug_in_writing_is_not_hidden_and_leaves_no_file(tmp_path: Path) -> None:
    """Only the filesystem's refusals are skipped."""
    with pytest.raises(TypeError):
        digest._write(tmp_path / "memo" / MEMO, {"x": object()})
    assert list((tmp_path / "memo").iterdir()) == []
