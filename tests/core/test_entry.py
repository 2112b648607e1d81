"""The entry point hands `--carrel-hnsw-build` to the HNSW build before the command line or Qt
is imported: it is how a frozen app, which has no `-m`, runs the build's process."""

import subprocess
import sys
from pathlib import Path

import pytest

from app.rag.hnsw import FROZEN_FLAG, build_command

ROOT = Path(__file__).resolve().parents[2]


def test_a_frozen_app_runs_the_build_through_its_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    command = build_command(Path("copy"), 8, 100)
    assert command[:3] == [sys.executable, FROZEN_FLAG, "copy"]
    assert "-m" not in command


def test_the_entry_point_dispatches_the_build_flag(tmp_path: Path) -> None:
    # A parent pid that is not the child's parent: the build refuses (exit 3) before it
    # touches the folder.
    args = [str(tmp_path / "copy"), "8", "100", "0", "0"]
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app", FROZEN_FLAG, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 3, r.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in r.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "app.rag.hnsw" in imported
    assert "app.cli" not in imported
    assert not {m for m in imported if m.split(".")[0] in ("PySide6", "shiboken6")}
