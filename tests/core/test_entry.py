"""The entry point hands `--carrel-hnsw-build` to the HNSW build, and `--carrel-onnx-export`
to the embedder's export, before the command line or Qt is imported: it is how a frozen
app, which has no `-m`, runs those children."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.rag import hnsw, onnx_export

ROOT = Path(__file__).resolve().parents[2]

# Each child: its flag, the module that is its entry point, its command line as the app
# builds it, and arguments that name a parent pid that is not the child's parent.
CHILDREN = [
    (hnsw.FROZEN_FLAG, "app.rag.hnsw", lambda: hnsw.build_command(Path("copy"), 8, 100)),
    (
        onnx_export.FROZEN_FLAG,
        "app.rag.onnx_export",
        lambda: onnx_export.command(Path("copy"), Path("out.onnx")),
    ),
]


@pytest.mark.parametrize(("flag", "module", "made"), CHILDREN)
def test_a_frozen_app_runs_each_child_through_its_entry_point(
    flag: str, module: str, made: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    command = made()
    assert command[:3] == [sys.executable, flag, "copy"]
    assert "-m" not in command
    monkeypatch.delattr(sys, "frozen")
    assert made()[1:3] == ["-m", module]


@pytest.mark.parametrize(("flag", "module", "made"), CHILDREN)
def test_the_entry_point_dispatches_each_childs_flag(
    flag: str, module: str, made: Callable[[], list[str]], tmp_path: Path
) -> None:
    # A parent pid that is not the child's parent: the child refuses (exit 3) before it
    # touches anything.
    args = [str(tmp_path / "copy"), *made()[4:-1], "0"]
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app", flag, *args],
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
    assert module in imported
    assert "app.cli" not in imported
    assert not {m for m in imported if m.split(".")[0] in ("PySide6", "shiboken6", "torch")}
