"""Kill the process in the middle of a file; after a restart the index and record agree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Paths
from app.rag.embedder import SentenceEmbedder
from app.rag.service import Documents
from app.store import Store
from tests.rag.test_ingest import agree


@pytest.mark.slow
def test_killed_ingest_leaves_no_half_file(
    carrel_home: Path, tmp_path: Path, embedder: SentenceEmbedder
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a_small.txt").write_text("The first file is small and about herons.")
    (folder / "b_big.txt").write_text(
        "\n\n".join(f"Paragraph {i} about kestrels. " + "wing " * 150 for i in range(12))
    )
    (folder / "c_after.txt").write_text("The last file is about owls.")
    env = {**os.environ, "CARREL_HOME": str(carrel_home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.runners", "ingest", str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    batches_of_big = 0
    for line in proc.stdout:
        if line.startswith("batch") and "b_big" in line:
            batches_of_big += 1
            if batches_of_big == 2:  # b_big is half in the shard
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert batches_of_big == 2, "the ingest ended before it could be killed"

    paths = Paths.under(carrel_home)
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    try:
        agree(docs, "crash")  # opening reconciled: b_big's partial points are gone
        assert [Path(f.source).name for f in docs.files("crash")] == ["a_small.txt"]
        report = docs.add([folder], "crash")
        status = {Path(f.source).name: f.status for f in report.files}
        assert status == {
            "a_small.txt": "unchanged",
            "b_big.txt": "indexed",
            "c_after.txt": "indexed",
        }
        agree(docs, "crash")
        hit = docs.search("kestrels", "crash", k=1)[0]
        assert hit.source.endswith("b_big.txt")
    finally:
        docs.close()
        store.close()
