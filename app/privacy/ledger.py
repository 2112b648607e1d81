"""The ledger: one row for every request that left the device, written before it is sent,
and one for every request the person or the policy refused. Exportable as CSV and JSON.

It records what left (size, SHA-256 of the exact bytes, how much was redacted), never the
content and never a key.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from app.store import MigrationStep, Store, run_script


def _ledger_v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE egress_ledger (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            endpoint TEXT NOT NULL,
            host TEXT NOT NULL,
            kind TEXT NOT NULL,
            model TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            redactions INTEGER NOT NULL,
            conversation_id INTEGER,
            consent TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'refused')),
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX egress_ledger_by_time ON egress_ledger(at)
        """,
    )


LEDGER_MIGRATIONS: list[MigrationStep] = [_ledger_v1]


@dataclass(frozen=True)
class LedgerEntry:
    """One request that left (outcome 'sent') or was stopped (outcome 'refused')."""

    id: int
    at: float
    endpoint: str
    host: str
    kind: str
    model: str
    bytes: int
    sha256: str
    redactions: int
    conversation_id: int | None
    consent: str
    outcome: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["at"] = dt.datetime.fromtimestamp(self.at, dt.UTC).isoformat()
        return d


FIELDS = [f.name for f in dataclasses.fields(LedgerEntry)]


class Ledger:
    """The egress ledger in Carrel's database."""

    def __init__(self, store: Store) -> None:
        self._store = store
        store.migrate("ledger", LEDGER_MIGRATIONS)

    def record(
        self,
        *,
        endpoint: str,
        host: str,
        kind: str,
        model: str,
        size: int,
        sha256: str,
        redactions: int,
        conversation_id: int | None,
        consent: str,
        outcome: str = "sent",
        reason: str = "",
    ) -> LedgerEntry:
        now = time.time()
        values = (
            now,
            endpoint,
            host,
            kind,
            model,
            size,
            sha256,
            redactions,
            conversation_id,
            consent,
            outcome,
            reason,
        )
        with self._store.transaction() as db:
            cur = db.execute(
                "INSERT INTO egress_ledger (at, endpoint, host, kind, model, bytes, sha256,"
                " redactions, conversation_id, consent, outcome, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            new_id = cur.lastrowid
        assert new_id is not None
        return LedgerEntry(new_id, *values)

    def annotate(self, entry_id: int, reason: str) -> None:
        """Add what became of a request after its row was written (e.g. it never
        connected)."""
        with self._store.transaction() as db:
            db.execute("UPDATE egress_ledger SET reason = ? WHERE id = ?", (reason, entry_id))

    def entries(self, conversation_id: int | None = None) -> list[LedgerEntry]:
        if conversation_id is None:
            rows = self._store.query("SELECT * FROM egress_ledger ORDER BY id")
        else:
            rows = self._store.query(
                "SELECT * FROM egress_ledger WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            )
        return [LedgerEntry(**{k: r[k] for k in FIELDS}) for r in rows]

    def export_json(self) -> str:
        return json.dumps([e.as_dict() for e in self.entries()], indent=2, ensure_ascii=False)

    def export_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for e in self.entries():
            writer.writerow(e.as_dict())
        return out.getvalue()
