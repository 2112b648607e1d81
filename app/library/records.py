"""What the library remembers about each model file: where it came from and its SHA-256.

Stored in the shared SQLite database under the component name "library": installed models
(source repository and revision, or the path imported from, or the model it was quantized
from) and the downloads not yet finished, so a restarted app can resume them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass

from app.store import MigrationStep, Store, run_script


def _v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE library_models (
            name TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            source TEXT NOT NULL,
            repo TEXT NOT NULL DEFAULT '',
            revision TEXT NOT NULL DEFAULT '',
            filename TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT '',
            parent TEXT NOT NULL DEFAULT '',
            card_license TEXT NOT NULL DEFAULT '',
            linked INTEGER NOT NULL DEFAULT 0,
            added_at REAL NOT NULL,
            verified_at REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE library_downloads (
            target TEXT PRIMARY KEY,
            repo TEXT NOT NULL,
            revision TEXT NOT NULL,
            filename TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            card_license TEXT NOT NULL DEFAULT '',
            added_at REAL NOT NULL
        );
        """,
    )


def _v2(db: sqlite3.Connection) -> None:
    # A quantized model's size and speed side by side with its parent's (tokens/s of a
    # short fixed generation measured right after quantizing; 0 when not measured).
    run_script(
        db,
        """
        ALTER TABLE library_models ADD COLUMN parent_size INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE library_models ADD COLUMN tokens_per_s REAL NOT NULL DEFAULT 0;
        ALTER TABLE library_models ADD COLUMN parent_tokens_per_s REAL NOT NULL DEFAULT 0;
        """,
    )


def _v3(db: sqlite3.Connection) -> None:
    # How each model is loaded (GPU layers, context, flash attention, KV cache, threads,
    # batch): JSON of `LoadOptions.kept()`, only the keys the person set.
    run_script(
        db,
        """
        CREATE TABLE library_load_options (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            options TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        """,
    )


LIBRARY_MIGRATIONS: list[MigrationStep] = [_v1, _v2, _v3]

HUB = "hub"
IMPORTED = "import"
LINKED = "link"
QUANTIZED = "quantize"


@dataclass
class ModelRecord:
    """Provenance of one installed file; `linked` files live outside the models folder."""

    name: str
    path: str
    size: int
    sha256: str
    source: str
    repo: str = ""
    revision: str = ""
    filename: str = ""
    origin: str = ""
    parent: str = ""
    card_license: str = ""
    linked: bool = False
    added_at: float = 0.0
    verified_at: float = 0.0
    parent_size: int = 0
    tokens_per_s: float = 0.0
    parent_tokens_per_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def comparison(self) -> dict[str, object] | None:
        """A quantized model beside its parent: sizes and tokens/s (None for other models)."""
        if self.source != QUANTIZED:
            return None
        return {
            "source": {
                "name": self.parent,
                "size": self.parent_size,
                "tokens_per_s": self.parent_tokens_per_s,
            },
            "result": {"name": self.name, "size": self.size, "tokens_per_s": self.tokens_per_s},
            "size_ratio": round(self.size / self.parent_size, 3) if self.parent_size else None,
            "speedup": round(self.tokens_per_s / self.parent_tokens_per_s, 2)
            if self.parent_tokens_per_s
            else None,
        }

    def describe_source(self) -> str:
        if self.source == HUB:
            return f"{self.repo}@{self.revision[:12]} ({self.filename})"
        if self.source == QUANTIZED:
            return f"quantized from {self.parent}"
        if self.source == LINKED:
            return f"linked in place: {self.origin}"
        return f"imported from {self.origin}"


@dataclass
class PendingDownload:
    """A download started and not finished; its bytes so far are in `target`.part."""

    target: str
    repo: str
    revision: str
    filename: str
    size: int
    sha256: str
    card_license: str = ""
    added_at: float = 0.0


class ModelRecords:
    """The library's two tables behind small methods."""

    def __init__(self, store: Store) -> None:
        self._store = store
        store.migrate("library", LIBRARY_MIGRATIONS)

    def put(self, record: ModelRecord) -> None:
        record.added_at = record.added_at or time.time()
        values = asdict(record)
        values["linked"] = int(record.linked)
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._store.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO library_models ({cols}) VALUES ({marks})",
                tuple(values.values()),
            )

    def get(self, name: str) -> ModelRecord | None:
        rows = self._store.query(
            "SELECT * FROM library_models WHERE name = ? COLLATE NOCASE", (name,)
        )
        return _record(rows[0]) if rows else None

    def all(self) -> list[ModelRecord]:
        return [_record(r) for r in self._store.query("SELECT * FROM library_models")]

    def delete(self, name: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM library_models WHERE name = ?", (name,))
            db.execute("DELETE FROM library_load_options WHERE name = ?", (name,))

    def load_options(self, name: str) -> dict[str, object]:
        """The load options kept for a model (empty: none set, the defaults apply)."""
        rows = self._store.query("SELECT options FROM library_load_options WHERE name = ?", (name,))
        value = json.loads(rows[0]["options"]) if rows else {}
        return value if isinstance(value, dict) else {}

    def set_load_options(self, name: str, options: dict[str, object]) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_load_options VALUES (?, ?, ?)",
                (name, json.dumps(options, sort_keys=True), time.time()),
            )

    def mark_verified(self, name: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE library_models SET verified_at = ? WHERE name = ?", (time.time(), name)
            )

    def add_pending(self, p: PendingDownload) -> None:
        p.added_at = p.added_at or time.time()
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_downloads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    p.target,
                    p.repo,
                    p.revision,
                    p.filename,
                    p.size,
                    p.sha256,
                    p.card_license,
                    p.added_at,
                ),
            )

    def pending(self) -> list[PendingDownload]:
        rows = self._store.query("SELECT * FROM library_downloads ORDER BY added_at")
        return [PendingDownload(**dict(r)) for r in rows]

    def drop_pending(self, target: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM library_downloads WHERE target = ?", (target,))


def _record(row: sqlite3.Row) -> ModelRecord:
    values = dict(row)
    values["linked"] = bool(values["linked"])
    return ModelRecord(**values)
