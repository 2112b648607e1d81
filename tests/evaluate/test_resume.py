"""A run killed mid-way (SIGKILL, as a crash or a power cut) resumes without redoing the
answers it had kept."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest

from app.evaluate.service import Evaluation
from app.workbench import Workbench
from tests.evaluate.conftest import SMOL, make_collection, make_set
from tests.support.runners import start_carrel, wait_until

pytestmark = pytest.mark.slow


def kept(db: Path) -> list[tuple[int, int, float]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT id, item_id, created_at FROM eval_results ORDER BY id"
        ).fetchall()


def test_killed_run_resumes_without_redoing_items(carrel_home: Path, tmp_path: Path) -> None:
    wb = Workbench.open()
    ev = Evaluation(wb)
    make_set(ev, make_collection(wb, tmp_path / "docs"))
    run = ev.create_run("harbour", [f"local:{SMOL}?k=1"], params={"max_tokens": 48})
    db = wb.store.path
    wb.close()

    child = start_carrel("eval", "resume", str(run.id))
    try:
        wait_until(lambda: len(kept(db)) >= 1 or child.poll() is not None, timeout=300)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        _out, err = child.communicate()
    before = kept(db)
    assert 1 <= len(before) < 3, f"the child was to be killed mid-way: {err[-500:]}"

    wb = Workbench.open()
    try:
        ev = Evaluation(wb)
        made: list[int] = []
        status = ev.job(run.id, lambda p: made.append(p.done)).execute()
        assert status == "finished"
        after = kept(db)
        assert len(after) == 3
        # What the killed process kept is untouched: same rows, same times.
        assert after[: len(before)] == before
        # Only the missing answers were made, counted on from what was there.
        assert made == list(range(len(before) + 1, 4))
    finally:
        wb.close()
