"""Two Carrel processes and one collection, as a window and a shell meet it: while one
process ingests, searches and a second `docs add` from other processes wait their turn
(saying for whom) and answer; the ingest is never disturbed and every file is indexed
once. Before the collection's lease, the second process's attempt to open the shard
damaged the first's files and killed the ingest at its next flush."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Paths
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.rag.test_ingest import agree
from tests.support.runners import ROOT, Output, start_carrel

pytestmark = pytest.mark.slow

BIRDS = ["herons", "kestrels", "owls", "swifts", "wrens", "terns", "ospreys", "plovers"]


def notes(folder: Path, files: int, topic: str) -> Path:
    folder.mkdir()
    for i in range(files):
        bird = BIRDS[i % len(BIRDS)]
        paragraphs = [
            f"{topic} note {i}, part {p}: {bird} nest near water. " * 12 for p in range(5)
        ]
        (folder / f"{topic}-{i:02d}.txt").write_text("\n\n".join(paragraphs))
    return folder


def test_searches_and_an_add_from_other_processes_during_an_ingest(
    carrel_home: Path, tmp_path: Path, embedder: SentenceEmbedder
) -> None:
    big = notes(tmp_path / "big", 40, "marsh")
    other = notes(tmp_path / "other", 3, "coast")
    env = {"CARREL_HOME": str(carrel_home)}
    ingest = subprocess.Popen(
        [sys.executable, "-m", "tests.support.runners", "ingest", str(big), "kb", "4"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    events = Output(ingest.stdout)  # type: ignore[arg-type]
    others: list[subprocess.Popen[str]] = []

    def carrel(*args: str) -> None:
        others.append(start_carrel(*args, "--collection", "kb", "--json", env=env))

    try:
        # At several points of the ingest: while its first file is embedded (the flush of
        # its group follows at once), after some files, and after more; each other process
        # reaches the collection seconds later, wherever the ingest then is.
        assert events.wait_for("batch "), events.text
        carrel("search", "heron nest")
        assert events.wait_for("marsh-05.txt"), events.text
        others.append(
            start_carrel("docs", "add", str(other), "--collection", "kb", "--json", env=env)
        )
        assert events.wait_for("marsh-12.txt"), events.text
        carrel("search", "osprey")
        results = [p.communicate(timeout=600) for p in others]
        ingest.wait(timeout=600)
        log = events.rest()
    finally:
        for p in [ingest, *others]:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert ingest.stdout is not None
        events.rest()
        ingest.stdout.close()
    assert ingest.returncode == 0 and "finished 40 indexed" in log, log[-2000:]
    for p, (out, err) in zip(others, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
        json.loads(out)  # each answered
    waited = [err for _, err in results if "is in use by Carrel process" in err]
    assert waited, "no other process met the ingest: the test proves nothing"
    added = json.loads(results[1][0])
    assert added["indexed"] == 3 and added["failed"] == 0

    paths = Paths.under(carrel_home)
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    try:
        agree(docs, "kb")  # every file indexed once, and nothing else
        assert len(docs.files("kb")) == 43
        assert {f.status for f in docs.files("kb")} == {"indexed"}
    finally:
        docs.close()
        store.close()
