"""The ledger: one row for every request that was to leave the device, written before it
is sent and then updated with what became of it, and one for every request the person or
the policy refused. Requests to the model hub are rows too. Exportable as CSV and JSON.

It records what left (size, SHA-256 of the exact bytes, how much was redacted; for the hub
what the request carried: search words, repository, file), never the content of a
conversation and never a key.
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
from enum import StrEnum
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


def _ledger_v2(db: sqlite3.Connection) -> None:
    """Outcomes beyond sent and refused (SQLite cannot change a CHECK: the table is copied),
    and what a request carried."""
    run_script(
        db,
        """
        CREATE TABLE egress_ledger_v2 (
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
            outcome TEXT NOT NULL CHECK (outcome IN
                ('sending', 'sent', 'refused', 'failed-unsent', 'failed-sent')),
            reason TEXT NOT NULL DEFAULT '',
            carried TEXT NOT NULL DEFAULT ''
        );
        INSERT INTO egress_ledger_v2 (id, at, endpoint, host, kind, model, bytes, sha256,
            redactions, conversation_id, consent, outcome, reason)
            SELECT id, at, endpoint, host, kind, model, bytes, sha256, redactions,
                conversation_id, consent, outcome, reason FROM egress_ledger;
        DROP TABLE egress_ledger;
        ALTER TABLE egress_ledger_v2 RENAME TO egress_ledger;
        CREATE INDEX egress_ledger_by_time ON egress_ledger(at)
        """,
    )


def _ledger_v3(db: sqlite3.Connection) -> None:
    """Which face asked: the window, the command line or the local server (rows written
    before this step do not say: empty)."""
    run_script(db, "ALTER TABLE egress_ledger ADD COLUMN origin TEXT NOT NULL DEFAULT ''")


LEDGER_MIGRATIONS: list[MigrationStep] = [_ledger_v1, _ledger_v2, _ledger_v3]


class Origin(StrEnum):
    """The face a request came through."""

    GUI = "gui"
    CLI = "cli"
    SERVER = "server"


class Outcome(StrEnum):
    """What became of a request. Its row is written as SENDING before any byte leaves."""

    SENDING = "sending"
    SENT = "sent"
    REFUSED = "refused"
    FAILED_UNSENT = "failed-unsent"
    FAILED_SENT = "failed-sent"

    def describe(self) -> str:
        return {
            Outcome.SENDING: "unfinished (Carrel stopped while sending)",
            Outcome.SENT: "sent",
            Outcome.REFUSED: "refused, nothing sent",
            Outcome.FAILED_UNSENT: "failed, nothing sent",
            Outcome.FAILED_SENT: "failed after sending",
        }[self]

    @property
    def left_device(self) -> bool:
        """Bytes reached the network (an unfinished row may or may not have)."""
        return self in (Outcome.SENT, Outcome.FAILED_SENT)


HUB_KIND = "hub"


@dataclass(frozen=True)
class LedgerEntry:
    """One request: sent, refused, failed before or after sending, or still sending."""

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
    # For hub requests: what they carried ("search: llama gguf", "file x.gguf of org/repo").
    carried: str = ""
    # The face that asked (`Origin`); empty in rows older than the column.
    origin: str = ""
    # The conversation's title, when it still exists.
    conversation_title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["at"] = dt.datetime.fromtimestamp(self.at, dt.UTC).isoformat()
        return d

    @property
    def left_device(self) -> bool:
        return Outcome(self.outcome).left_device

    def describe_outcome(self) -> str:
        """ "failed, nothing sent (cannot connect)", for the ledger view and the CLI."""
        text = Outcome(self.outcome).describe()
        return f"{text} ({self.reason})" if self.reason else text

    def describe_origin(self) -> str:
        """ "server", or "unknown" for a row written before origins were kept."""
        return self.origin or "unknown"

    def describe_conversation(self) -> str:
        if self.conversation_id is None:
            return ""
        if self.conversation_title is None:
            return f"#{self.conversation_id} (deleted)"
        return self.conversation_title


FIELDS = [f.name for f in dataclasses.fields(LedgerEntry)]


def summary(entries: list[LedgerEntry]) -> str:
    """The badge's line: how many requests left this device, how many did not."""
    if not entries:
        return "Nothing has left this device."
    left = sum(1 for e in entries if e.left_device)
    unsent = sum(1 for e in entries if e.outcome in (Outcome.REFUSED, Outcome.FAILED_UNSENT))
    text = f"{left} request(s) left this device; {unsent} refused or failed before sending"
    unfinished = sum(1 for e in entries if e.outcome == Outcome.SENDING)
    if unfinished:
        text += f"; {unfinished} unfinished (may have left)"
    return text + "."


class Ledger:
    """The egress ledger in Carrel's database. `origin` is the face of this process (the
    window sets GUI; the command line is the default); a request the local server makes
    passes its own."""

    def __init__(self, store: Store, origin: Origin = Origin.CLI) -> None:
        self._store = store
        self.origin = origin
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
        carried: str = "",
        origin: Origin | None = None,
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
            str(outcome),
            reason,
            carried,
            str(origin or self.origin),
        )
        with self._store.transaction() as db:
            cur = db.execute(
                "INSERT INTO egress_ledger (at, endpoint, host, kind, model, bytes, sha256,"
                " redactions, conversation_id, consent, outcome, reason, carried, origin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            new_id = cur.lastrowid
        assert new_id is not None
        return LedgerEntry(new_id, *values)

    def settle(self, entry_id: int, outcome: Outcome | str, reason: str = "") -> None:
        """Say what became of a request whose row was written before sending; a row that
        was already settled keeps its outcome."""
        with self._store.transaction() as db:
            db.execute(
                "UPDATE egress_ledger SET outcome = ?, reason = ? WHERE id = ? AND outcome = ?",
                (str(outcome), reason, entry_id, str(Outcome.SENDING)),
            )

    def annotate(self, entry_id: int, reason: str) -> None:
        """Add a reason to a row after it was written."""
        with self._store.transaction() as db:
            db.execute("UPDATE egress_ledger SET reason = ? WHERE id = ?", (reason, entry_id))

    def open_hub_request(self, endpoint: str, host: str, repo: str, carried: str) -> int:
        """The row of a request to the model hub, written before it is sent; `settle` it.
        What it carried is in `carried`; its size and hash are left empty."""
        return self.record(
            endpoint=endpoint,
            host=host,
            kind=HUB_KIND,
            model=repo,
            size=0,
            sha256="",
            redactions=0,
            conversation_id=None,
            consent="browsing",
            outcome=Outcome.SENDING,
            carried=carried,
        ).id

    def entries(self, conversation_id: int | None = None) -> list[LedgerEntry]:
        select = (
            "SELECT e.*, c.title AS conversation_title FROM egress_ledger e"
            " LEFT JOIN conversations c ON c.id = e.conversation_id"
        )
        if conversation_id is None:
            rows = self._store.query(select + " ORDER BY e.id")
        else:
            rows = self._store.query(
                select + " WHERE e.conversation_id = ? ORDER BY e.id", (conversation_id,)
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
