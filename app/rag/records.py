"""What the database knows about collections and files (the `docs` migrations).

A file row is written only after the file's points are in the index and flushed, so the
row is the truth: `doc_pending` lists index work begun but not finished (an add whose points
may be half in, a removal or replacement whose old points may linger), and `reconcile`
finishes or undoes it after a crash.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.store import MigrationStep, Store, run_script


def _docs_v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE doc_collections (
            name TEXT PRIMARY KEY,
            embedder TEXT NOT NULL,
            dim INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE doc_files (
            collection TEXT NOT NULL REFERENCES doc_collections(name) ON DELETE CASCADE,
            source TEXT NOT NULL,
            hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'needs_ocr')),
            reason TEXT NOT NULL DEFAULT '',
            pages INTEGER NOT NULL DEFAULT 0,
            chunks INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL,
            PRIMARY KEY (collection, source)
        );
        CREATE TABLE doc_pending (
            collection TEXT NOT NULL,
            source TEXT NOT NULL,
            hash TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('add', 'prune')),
            PRIMARY KEY (collection, source, hash, kind)
        );
        """,
    )


def _docs_v2(db: sqlite3.Connection) -> None:
    # A collection may live on a Qdrant server or cluster (a team's) instead of this disk.
    db.execute("ALTER TABLE doc_collections ADD COLUMN server_url TEXT NOT NULL DEFAULT ''")
    db.execute(
        "ALTER TABLE doc_collections ADD COLUMN server_prefix TEXT NOT NULL DEFAULT 'carrel_'"
    )


def _docs_v3(db: sqlite3.Connection) -> None:
    # How passages were embedded (`app.rag.passages.REPRESENTATIONS`): collections made
    # before issue 16 embedded every sentence on its own. The embedder's revision, and the
    # reranker chosen for the collection (empty: none).
    db.execute(
        "ALTER TABLE doc_collections ADD COLUMN representation TEXT NOT NULL DEFAULT 'sentences'"
    )
    db.execute("ALTER TABLE doc_collections ADD COLUMN revision TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE doc_collections ADD COLUMN reranker TEXT NOT NULL DEFAULT ''")


DOCS_MIGRATIONS: list[MigrationStep] = [_docs_v1, _docs_v2, _docs_v3]


@dataclass(frozen=True)
class FileRecord:
    """A file as the collection knows it: indexed, failed (with reason) or needing OCR."""

    collection: str
    source: str
    hash: str
    size: int
    mtime_ns: int
    status: str
    reason: str
    pages: int
    chunks: int
    updated_at: float

    def row(self) -> tuple[str, str, str, int, int, str, str, int, int, float]:
        """The `doc_files` row, its columns in order (`FileRecord(*row)` reads it back)."""
        return (self.collection, self.source, self.hash, self.size, self.mtime_ns,
                self.status, self.reason, self.pages, self.chunks, self.updated_at)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "pages": self.pages,
            "chunks": self.chunks,
            "size": self.size,
        }


@dataclass(frozen=True)
class CollectionRecord:
    """A collection and the embedder its vectors were made with."""

    name: str
    embedder: str
    dim: int
    # Empty: the embedded Qdrant Edge shard under the data folder.
    server_url: str = ""
    server_prefix: str = "carrel_"
    representation: str = "sentences"
    revision: str = ""
    reranker: str = ""


@dataclass(frozen=True)
class CollectionSummary:
    """A collection as the faces list it: where it lives, and the files and passages it
    holds (failed files included in `files`)."""

    name: str
    embedder: str
    files: int
    chunks: int
    server_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "embedder": self.embedder, "files": self.files,
                "chunks": self.chunks}  # fmt: skip

    def describe(self) -> str:
        """'manuals  12 files, 3,400 chunks  (sentence-transformers/all-MiniLM-L6-v2)'."""
        where = f", on {self.server_url}" if self.server_url else ""
        return f"{self.name}  {self.files} files, {self.chunks} chunks  ({self.embedder}{where})"


class DocumentRecords:
    """The docs tables of the shared `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("docs", DOCS_MIGRATIONS)

    def collection(self, name: str) -> CollectionRecord | None:
        rows = self.store.query("SELECT * FROM doc_collections WHERE name = ?", (name,))
        if not rows:
            return None
        return _collection(rows[0])

    def collections(self) -> list[CollectionRecord]:
        rows = self.store.query("SELECT * FROM doc_collections ORDER BY name")
        return [_collection(r) for r in rows]

    def summaries(self) -> list[CollectionSummary]:
        rows = self.store.query(
            "SELECT c.name, c.embedder, c.server_url, COUNT(f.source) AS files,"
            " COALESCE(SUM(f.chunks), 0) AS chunks FROM doc_collections c"
            " LEFT JOIN doc_files f ON f.collection = c.name GROUP BY c.name ORDER BY c.name"
        )
        return [
            CollectionSummary(r["name"], r["embedder"], r["files"], r["chunks"], r["server_url"])
            for r in rows
        ]

    def set_server(self, name: str, url: str, prefix: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE doc_collections SET server_url = ?, server_prefix = ? WHERE name = ?",
                (url, prefix, name),
            )
            # The files are not in the new place yet: the next add indexes them there.
            db.execute("DELETE FROM doc_files WHERE collection = ?", (name,))

    def create_collection(
        self, name: str, embedder: str, dim: int, representation: str, revision: str = ""
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO doc_collections (name, embedder, dim, created_at,"
                " representation, revision) VALUES (?, ?, ?, ?, ?, ?)",
                (name, embedder, dim, time.time(), representation, revision),
            )

    def set_embedder(
        self, name: str, embedder: str, dim: int, revision: str, representation: str
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE doc_collections SET embedder = ?, dim = ?, revision = ?,"
                " representation = ? WHERE name = ?",
                (embedder, dim, revision, representation, name),
            )

    def set_reranker(self, name: str, reranker: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE doc_collections SET reranker = ? WHERE name = ?", (reranker, name))

    def drop_collection(self, name: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM doc_files WHERE collection = ?", (name,))
            db.execute("DELETE FROM doc_pending WHERE collection = ?", (name,))
            db.execute("DELETE FROM doc_collections WHERE name = ?", (name,))

    def files(
        self, collection: str | None = None, sources: Iterable[str] | None = None
    ) -> list[FileRecord]:
        """The files recorded (in `collection`; of those, the ones in `sources`), by path."""
        if collection is not None and sources is not None:
            return self._files_where(collection, "source", set(sources))
        if collection is None:
            rows = self.store.query("SELECT * FROM doc_files ORDER BY collection, source")
        else:
            rows = self.store.query(
                "SELECT * FROM doc_files WHERE collection = ? ORDER BY source", (collection,)
            )
        return [FileRecord(*tuple(r)) for r in rows]

    def same_content(self, collection: str, hashes: Iterable[str]) -> list[FileRecord]:
        """The files recorded in `collection` whose content is that of one of `hashes` (the
        content digest before a reading's `-rN` mark), by any path and any reading."""
        digest = "substr(hash, 1, instr(hash || '-', '-') - 1)"
        return self._files_where(collection, digest, {h.partition("-")[0] for h in hashes})

    def _files_where(self, collection: str, column: str, values: set[str]) -> list[FileRecord]:
        """The files of `collection` whose `column` (an expression of doc_files) is one of
        `values`, by path."""
        wanted, rows = sorted(values), []
        for at in range(0, len(wanted), 500):  # SQLite's bound on a statement's values
            part = wanted[at : at + 500]
            rows += self.store.query(
                f"SELECT * FROM doc_files WHERE collection = ? AND {column} IN"
                f" ({', '.join('?' * len(part))})",
                (collection, *part),
            )
        return [FileRecord(*tuple(r)) for r in sorted(rows, key=lambda r: r["source"])]

    def file(self, collection: str, source: str) -> FileRecord | None:
        rows = self.store.query(
            "SELECT * FROM doc_files WHERE collection = ? AND source = ?", (collection, source)
        )
        return FileRecord(*tuple(rows[0])) if rows else None

    def begin(self, collection: str, adds: Iterable[tuple[str, str]]) -> None:
        """Mark adds (source, content hash) as under way, in one transaction: their points
        may be half in until `commit`."""
        rows = [(collection, source, content_hash) for source, content_hash in adds]
        with self.store.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO doc_pending VALUES (?, ?, ?, 'add')", rows)

    def commit(self, *records: FileRecord) -> None:
        """The files' points are flushed: record them, and note that older versions'
        points must go (done by `done_pruning` once they are deleted). One transaction."""
        with self.store.transaction() as db:
            db.executemany(
                "DELETE FROM doc_pending WHERE collection = ? AND source = ? AND kind = 'add'",
                [(r.collection, r.source) for r in records],
            )
            db.executemany(
                "INSERT OR REPLACE INTO doc_pending VALUES (?, ?, ?, 'prune')",
                [(r.collection, r.source, r.hash) for r in records],
            )
            db.executemany(
                "INSERT OR REPLACE INTO doc_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r.row() for r in records],
            )

    def abandon(self, collection: str, adds: Iterable[tuple[str, str]]) -> None:
        """Take back adds (source, content hash) that will not be finished."""
        rows = [(collection, source, content_hash) for source, content_hash in adds]
        with self.store.transaction() as db:
            db.executemany(
                "DELETE FROM doc_pending WHERE collection = ? AND source = ? AND hash = ?"
                " AND kind = 'add'",
                rows,
            )

    def forget(self, collection: str, sources: Iterable[str]) -> None:
        """Drop files' rows, in one transaction; their points are pruned next (all
        versions: `done_pruning` with "" kept once they are)."""
        rows = [(collection, source) for source in sources]
        with self.store.transaction() as db:
            db.executemany("DELETE FROM doc_files WHERE collection = ? AND source = ?", rows)
            db.executemany("INSERT OR REPLACE INTO doc_pending VALUES (?, ?, '', 'prune')", rows)

    def done_pruning(self, collection: str, pruned: Iterable[tuple[str, str]]) -> None:
        """The older points of each (source, kept hash) are gone ("" kept: all of them)."""
        with self.store.transaction() as db:
            db.executemany(
                "DELETE FROM doc_pending WHERE collection = ? AND source = ? AND hash = ?"
                " AND kind = 'prune'",
                [(collection, source, keep_hash) for source, keep_hash in pruned],
            )

    def pending(self, collection: str) -> list[tuple[str, str, str]]:
        rows = self.store.query(
            "SELECT source, hash, kind FROM doc_pending WHERE collection = ?", (collection,)
        )
        return [(r["source"], r["hash"], r["kind"]) for r in rows]

    def touch(self, collection: str, source: str, mtime_ns: int) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE doc_files SET mtime_ns = ? WHERE collection = ? AND source = ?",
                (mtime_ns, collection, source),
            )


def _collection(row: sqlite3.Row) -> CollectionRecord:
    return CollectionRecord(
        row["name"],
        row["embedder"],
        row["dim"],
        row["server_url"],
        row["server_prefix"],
        row["representation"],
        row["revision"],
        row["reranker"],
    )
