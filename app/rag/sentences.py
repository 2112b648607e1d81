"""The sentence vectors of a collection's passages, kept beside its shard in SQLite.

A passage's dense ranking is re-scored by its best sentence (`represent.best_sentence`), so
every point has its sentence vectors stored: int8, ~7 x 384 bytes. They used to ride in
the shard's payload (base64, 3.6 KB a passage), which made them most of what an HNSW build
reads and rewrites: a build of 100k passages took 2.35 GB in its process with them and
1.30 GB without (1.86 / 0.81 GB of it mapped shard pages). The build needs only the dense
vector, so they live here instead: `.<collection>.sentences.sqlite` beside the shard folder
(names that start with a dot are never collections), which a build neither copies nor
touches. SQLite reads them by id for the ~100 candidates of a search, with its own small
page cache rather than mapped files.

Writes are committed by `commit`, which `EdgeIndex.flush` calls before it flushes the
shard: a point the shard has durably always has its row. A row whose point never made it
(a killed ingest) is removed with its file's version by the reconcile that follows, and a
leftover of a delete cut short is never read: rows are looked up by the ids a search found.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

_SUFFIX = ".sentences.sqlite"

log = logging.getLogger(__name__)


def store_path(folder: Path) -> Path:
    """Where the sentence vectors of the shard in `folder` are kept."""
    return folder.parent / f".{folder.name}{_SUFFIX}"


def remove_store(folder: Path) -> None:
    """Delete the store of the shard in `folder` (with SQLite's journal files)."""
    path = store_path(folder)
    for extra in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + extra).unlink(missing_ok=True)


class SentenceStore:
    """Sentence vectors by point id, with the point's file and version for deletes.

    Thread-safe (one connection behind a lock): the index writes under its write lock and
    searches read under its read lock, which do not exclude each other."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError:
            # A damaged store loses only the re-ranking: its passages keep their mean
            # vector's score until their files are indexed again. Kept aside, not deleted.
            log.warning(
                "%s is damaged: moved aside; until the collection is indexed again its"
                " passages are ranked by their passage vector alone",
                path,
            )
            for extra in ("", "-wal", "-shm"):
                old = path.with_name(path.name + extra)
                if old.exists():
                    old.replace(path.with_name(f"{path.name}.damaged{extra}"))
            self._db = self._connect()
        self._open = False  # a write transaction is open, to be committed by `commit`

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            _prepare(db)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def put(self, rows: list[tuple[str, str, str, bytes]]) -> None:
        """(point id, source, hash, packed int8 vectors) rows; a known id is replaced."""
        if not rows:
            return
        with self._lock:
            self._begin()
            self._db.executemany("INSERT OR REPLACE INTO sentences VALUES (?, ?, ?, ?)", rows)

    def get(self, ids: list[str]) -> dict[str, bytes]:
        """The packed vectors of those of `ids` that have any."""
        rows = []
        for at in range(0, len(ids), 500):  # SQLite's bound on a statement's values
            part = ids[at : at + 500]
            marks = ",".join("?" * len(part))
            with self._lock:
                rows += self._db.execute(
                    f"SELECT id, data FROM sentences WHERE id IN ({marks})", part
                ).fetchall()
        return {str(key): bytes(data) for key, data in rows}

    def delete(self, source: str, keep_hash: str | None = None) -> None:
        """The rows of `source`, or all but those of version `keep_hash`."""
        if keep_hash is None:
            self._write("DELETE FROM sentences WHERE source = ?", (source,))
        else:
            self._write("DELETE FROM sentences WHERE source = ? AND hash != ?", (source, keep_hash))

    def delete_version(self, source: str, content_hash: str) -> None:
        """The rows of one version of `source`."""
        self._write("DELETE FROM sentences WHERE source = ? AND hash = ?", (source, content_hash))

    def commit(self) -> None:
        """Make the writes so far durable."""
        with self._lock:
            if self._open:
                self._db.execute("COMMIT")
                self._open = False

    def sources(self) -> dict[tuple[str, str], int]:
        """Rows per (source, hash): for checks, not hot paths."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, hash, count(*) FROM sentences GROUP BY source, hash"
            ).fetchall()
        return {(str(source), str(version)): int(n) for source, version, n in rows}

    def close(self) -> None:
        self.commit()
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[str, ...]) -> None:
        with self._lock:
            self._begin()
            self._db.execute(sql, args)

    def _begin(self) -> None:
        if not self._open:
            self._db.execute("BEGIN IMMEDIATE")
            self._open = True


def _prepare(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    # A rowid table: its leaves hold a 2.7 KB row whole, where a WITHOUT ROWID one sends it
    # to overflow pages (100 lookups from 100k rows: 0.5 ms here, 2.2 ms that way).
    db.execute(
        "CREATE TABLE IF NOT EXISTS sentences (id TEXT NOT NULL UNIQUE,"
        " source TEXT NOT NULL, hash TEXT NOT NULL, data BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS by_source ON sentences (source, hash)")
