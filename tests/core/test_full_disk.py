"""A full disk, as a person meets it with everything under `CARREL_HOME` on it: ingest,
search and chat each say in one line what happened and how much space is needed (before,
an 8 MB disk ended an ingest and every later search with "Bus error", exit 135, and a
larger one with a raw traceback); what was saved stays readable; once space is freed,
everything works again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app.engine.backend import Done
from app.errors import NoSpaceError
from app.workbench import Workbench
from tests.support.disks import fill, tmpfs
from tests.support.runners import carrel

pytestmark = pytest.mark.slow

MB = 1_000_000
BUS_ERROR = (-7, 135)  # SIGBUS, as a signal or as a shell's exit status


def one_line(done: subprocess.CompletedProcess[str], start: str) -> str:
    assert done.returncode == 1 and done.returncode not in BUS_ERROR, done.stderr
    assert done.stderr.startswith(start) and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def notes(folder: Path, name: str, fact: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"# {name}\n\n{fact}\n\n" + "Filler about the harbour. " * 40)
    return path


def test_an_8_mb_disk_is_one_line_for_ingest_search_and_chat(tmp_path: Path) -> None:
    with tmpfs(8) as home:
        env = {"CARREL_HOME": str(home)}
        docs = notes(tmp_path / "docs", "rules.md", "The harbour master is Ingrid Solberg.")
        added = carrel("docs", "add", str(docs), "--collection", "kb", env=env)
        line = one_line(added, "carrel: Not enough disk space in ")
        assert "MB more is needed" in line and "0 of 1 files" in line
        found = carrel("search", "harbour master", "--collection", "kb", env=env)
        one_line(found, "carrel: Not enough disk space in ")
        # A chat from the command line writes nothing: it answers.
        chat = carrel("chat", "--prompt", "Say hi.", "--max-tokens", "4", env=env)
        assert chat.returncode == 0, chat.stderr


def test_a_full_disk_stops_a_write_and_keeps_what_was_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for the embedder's cache as well: on a processor with AMX it holds the fp32
    # export and OpenVINO's compiled network (~180 MB; onnxruntime's int8 model is 23 MB).
    with tmpfs(400) as home:
        env = {"CARREL_HOME": str(home)}
        monkeypatch.setenv("CARREL_HOME", str(home))
        first = notes(tmp_path / "a", "rules.md", "The harbour master is Ingrid Solberg.")
        second = notes(tmp_path / "b", "fuel.md", "Diesel is sold on the north pier only.")
        assert carrel("docs", "add", str(first), "--collection", "kb", env=env).returncode == 0
        # Room to open the shard (it fills in its 32 MB vector chunk), not to grow it.
        filler = fill(home, leave=50 * MB)

        refused = carrel("docs", "add", str(second), "--collection", "kb", env=env)
        line = one_line(refused, f"carrel: Not enough disk space in {home}")
        assert "0 of 1 files were settled and are saved" in line
        # What was saved stays readable on the full disk.
        found = carrel("search", "harbour master", "--collection", "kb", "--json", env=env)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)[0]["source"] == str(first.parent.resolve() / first.name)

        # A chat that stores its messages: the message is refused in one line.
        wb = Workbench.open()
        try:
            wb.load_model("SmolLM2-135M-Instruct.Q4_1")
            c = wb.new_conversation()
            fill(home, leave=0)
            with pytest.raises(NoSpaceError, match="Not enough disk space"):
                wb.reply(c.id, "Who is the harbour master?", {"max_tokens": 4})

            filler.unlink()  # space freed: everything works again
            done = list(wb.reply(c.id, "Who is the harbour master?", {"max_tokens": 4}))[-1]
            assert isinstance(done, Done)
        finally:
            wb.close()
        again = carrel("docs", "add", str(second), "--collection", "kb", "--json", env=env)
        assert again.returncode == 0 and json.loads(again.stdout)["indexed"] == 1
        found = carrel("search", "diesel pier", "--collection", "kb", "--json", env=env)
        assert json.loads(found.stdout)[0]["source"].endswith("fuel.md")
