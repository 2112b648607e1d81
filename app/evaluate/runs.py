"""Runs and their results in the store: a run is a test set × contestants with settings;
a result is one (item, contestant) answer with its figures. The unique key on (run, item,
contestant) is what makes a killed run resumable: what is in the table is not redone."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from app.citation import Citation
from app.evaluate.contestants import Contestant
from app.evaluate.errors import RunNotFoundError
from app.evaluate.schema import COMPONENT, EVALUATE_MIGRATIONS
from app.store import Store

# The figures every result carries (None where one does not apply, e.g. memory remote).
METRICS = (
    "ttft_ms",
    "total_ms",
    "tokens_per_s",
    "tokens_in",
    "tokens_out",
    "peak_rss_mb",
    "cost",
    "retrieval_hit",
    "citation_support",
    "contains_expected",
    "similarity",
    "judge",
)


@dataclass
class Run:
    """A run: its test set, contestants (by spec), settings and status."""

    id: int
    set_id: int
    name: str
    contestants: list[Contestant]
    settings: dict[str, Any]
    status: str
    created_at: float
    finished_at: float | None = None

    def describe(self) -> str:
        return f"run {self.id} {self.name!r}: {len(self.contestants)} contestants, {self.status}"


@dataclass
class Result:
    """One answer of one contestant to one item, with its figures (`METRICS`)."""

    id: int
    run_id: int
    item_id: int
    contestant: str
    answer: str
    metrics: dict[str, Any] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)
    error: str = ""
    created_at: float = 0.0


class Runs:
    """The runs and results tables, and the per-endpoint price table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(COMPONENT, EVALUATE_MIGRATIONS)

    def create(
        self, set_id: int, contestants: list[Contestant], settings: dict[str, Any], name: str = ""
    ) -> Run:
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO eval_runs (set_id, name, contestants, settings, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    set_id,
                    name,
                    json.dumps([c.key for c in contestants]),
                    json.dumps(settings),
                    time.time(),
                ),
            )
            assert cur.lastrowid is not None
            run_id = cur.lastrowid
        return self.get(run_id)

    def get(self, run_id: int) -> Run:
        rows = self.store.query("SELECT * FROM eval_runs WHERE id = ?", (run_id,))
        if not rows:
            raise RunNotFoundError(run_id)
        return _run(rows[0])

    def all(self) -> list[Run]:
        return [_run(r) for r in self.store.query("SELECT * FROM eval_runs ORDER BY id DESC")]

    def set_status(self, run_id: int, status: str) -> None:
        finished = time.time() if status == "finished" else None
        with self.store.transaction() as db:
            db.execute(
                "UPDATE eval_runs SET status = ?, finished_at = ? WHERE id = ?",
                (status, finished, run_id),
            )

    def update_settings(self, run_id: int, settings: dict[str, Any]) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE eval_runs SET settings = ? WHERE id = ?", (json.dumps(settings), run_id)
            )

    def done(self, run_id: int) -> set[tuple[int, str]]:
        """The (item, contestant) pairs already answered (errors count as answered)."""
        rows = self.store.query(
            "SELECT item_id, contestant FROM eval_results WHERE run_id = ?", (run_id,)
        )
        return {(r["item_id"], r["contestant"]) for r in rows}

    def save(self, result: Result) -> None:
        """Keep one answer; written in one transaction, so a kill leaves it whole or absent."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO eval_results (run_id, item_id, contestant, answer,"
                " metrics, citations, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.run_id,
                    result.item_id,
                    result.contestant,
                    result.answer,
                    json.dumps(result.metrics),
                    json.dumps([c.to_record() for c in result.citations]),
                    result.error,
                    time.time(),
                ),
            )

    def set_metric(self, result_id: int, name: str, value: Any) -> None:
        rows = self.store.query("SELECT metrics FROM eval_results WHERE id = ?", (result_id,))
        metrics = json.loads(rows[0]["metrics"]) if rows else {}
        metrics[name] = value
        with self.store.transaction() as db:
            db.execute(
                "UPDATE eval_results SET metrics = ? WHERE id = ?", (json.dumps(metrics), result_id)
            )

    def results(self, run_id: int) -> list[Result]:
        rows = self.store.query(
            "SELECT * FROM eval_results WHERE run_id = ? ORDER BY item_id, contestant", (run_id,)
        )
        return [
            Result(
                id=r["id"],
                run_id=r["run_id"],
                item_id=r["item_id"],
                contestant=r["contestant"],
                answer=r["answer"],
                metrics=json.loads(r["metrics"]),
                citations=[Citation.from_record(c) for c in json.loads(r["citations"])],
                error=r["error"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    # prices ------------------------------------------------------------------------------

    def set_price(self, endpoint: str, input_per_mtok: float, output_per_mtok: float) -> None:
        """What an endpoint charges per million tokens in and out (the person's figures)."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO eval_prices (endpoint, input_per_mtok, output_per_mtok)"
                " VALUES (?, ?, ?)",
                (endpoint, input_per_mtok, output_per_mtok),
            )

    def price(self, endpoint: str) -> tuple[float, float] | None:
        rows = self.store.query("SELECT * FROM eval_prices WHERE endpoint = ?", (endpoint,))
        return (rows[0]["input_per_mtok"], rows[0]["output_per_mtok"]) if rows else None

    def prices(self) -> dict[str, tuple[float, float]]:
        return {
            r["endpoint"]: (r["input_per_mtok"], r["output_per_mtok"])
            for r in self.store.query("SELECT * FROM eval_prices ORDER BY endpoint")
        }


def _run(row: Any) -> Run:
    return Run(
        id=row["id"],
        set_id=row["set_id"],
        name=row["name"],
        contestants=[Contestant.parse(c) for c in json.loads(row["contestants"])],
        settings=json.loads(row["settings"]),
        status=row["status"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )
