"""The cache of networks tidied (`app.rag.cache_tidy`, and OpenVINO's `tidy` on it) where
a file cannot be removed: it stays, said in the log, and the rest is still tidied; a
cache folder that cannot be written is left as it is, and one that is not there yet is
no error."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from pathlib import Path

import pytest

from app.rag import cache_tidy
from app.rag.cache_tidy import UNUSED_DAYS
from app.rag.openvino_runtime import tidy


def _aged(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    then = time.time() - 86400 * (UNUSED_DAYS + 1)
    os.utime(path, (then, then))
    return path


def test_a_folder_that_will_not_go_stays_and_the_rest_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    held = _aged(tmp_path / "minilm-ov-00000000000000aa" / "1.blob").parent
    os.utime(held, (time.time() - 86400 * (UNUSED_DAYS + 1),) * 2)
    gone = _aged(tmp_path / "minilm-int8-00000000000000bb.xml")
    real = shutil.rmtree

    def busy(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)) == held:
            raise OSError(errno.EBUSY, "Device or resource busy")
        real(str(path))

    monkeypatch.setattr(cache_tidy.shutil, "rmtree", busy)
    with caplog.at_level(logging.INFO, logger="app.rag.cache_tidy"):
        tidy(tmp_path, "minilm-ov-00000000000000cc")
    assert held.is_dir() and not gone.exists()
    assert "minilm-ov-00000000000000aa left in the cache" in caplog.text
    assert (tmp_path / "minilm-ov-00000000000000cc").is_dir()


def test_a_cache_that_cannot_be_written_is_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = _aged(tmp_path / "cache" / "minilm-ov-00000000000000aa.xml")
    blocked = tmp_path / "cache" / "minilm-ov-00000000000000cc"
    blocked.write_text("a file where the network's folder would go")
    with caplog.at_level(logging.INFO, logger="app.rag.openvino_runtime"):
        assert not tidy(tmp_path / "cache", blocked.name)
    assert stale.exists()
    assert "not tidied" in caplog.text


def test_a_folder_not_there_yet_is_no_error(tmp_path: Path) -> None:
    cache_tidy.remove_unused(tmp_path / "onnx", ())
    assert not cache_tidy.mark_used(tmp_path / "onnx" / "minilm-00000000000000aa.onnx")
