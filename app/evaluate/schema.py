"""The evaluation tables, as migrations of the component "evaluate" (`Store.migrate`).

- `eval_sets`, `eval_items`: test sets over a collection; an item is a question, an
  optional expected answer, its gold passages (collection, file, page, offsets, text) and
  a status (draft, accepted, dropped).
- `eval_runs`, `eval_results`: a run's contestants and settings, and one row per (item,
  contestant) with the answer and its figures; the unique key is what makes a run resumable.
- `eval_reviews`: blind side-by-side votes.
- `eval_prices`: per-endpoint prices the person fills in.
- `eval_usage`: every reply of everyday use (model, route, latency, tokens, failure).
- `eval_routing`: the routing policy last applied.
"""

from __future__ import annotations

import sqlite3

from app.store import MigrationStep, run_script

COMPONENT = "evaluate"


def _v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE eval_sets (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            collection TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL
        );
        CREATE TABLE eval_items (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES eval_sets(id) ON DELETE CASCADE,
            question TEXT NOT NULL,
            expected TEXT NOT NULL DEFAULT '',
            gold TEXT NOT NULL DEFAULT '[]',
            task TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'accepted'
                CHECK (status IN ('draft', 'accepted', 'dropped')),
            origin TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX eval_items_by_set ON eval_items(set_id, id);
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            set_id INTEGER NOT NULL REFERENCES eval_sets(id) ON DELETE CASCADE,
            name TEXT NOT NULL DEFAULT '',
            contestants TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            created_at REAL NOT NULL,
            finished_at REAL
        );
        CREATE TABLE eval_results (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES eval_items(id) ON DELETE CASCADE,
            contestant TEXT NOT NULL,
            answer TEXT NOT NULL,
            metrics TEXT NOT NULL DEFAULT '{}',
            citations TEXT NOT NULL DEFAULT '[]',
            error TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            UNIQUE (run_id, item_id, contestant)
        );
        CREATE TABLE eval_reviews (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL,
            left_contestant TEXT NOT NULL,
            right_contestant TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('A', 'B', 'tie', 'both-bad')),
            created_at REAL NOT NULL
        );
        CREATE TABLE eval_prices (
            endpoint TEXT PRIMARY KEY,
            input_per_mtok REAL NOT NULL DEFAULT 0,
            output_per_mtok REAL NOT NULL DEFAULT 0,
            currency TEXT NOT NULL DEFAULT 'USD'
        );
        CREATE TABLE eval_usage (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            model TEXT NOT NULL,
            route TEXT NOT NULL,
            endpoint TEXT NOT NULL DEFAULT '',
            total_ms REAL NOT NULL DEFAULT 0,
            ttft_ms REAL NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            failure TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX eval_usage_by_time ON eval_usage(at);
        CREATE TABLE eval_routing (
            task TEXT PRIMARY KEY,
            contestant TEXT NOT NULL,
            bound TEXT NOT NULL DEFAULT '',
            applied_at REAL NOT NULL
        )
        """,
    )


EVALUATE_MIGRATIONS: list[MigrationStep] = [_v1]
