"""SQLite storage for conversations and messages, in WAL mode, with numbered migrations.

Each part of Carrel that keeps tables registers its own list of migrations under its own
name (`Store.migrate`), so the document index and the ledger add tables without touching
the chat schema. Migrations are small functions recorded in a `migrations` table.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.citation import Citation
from app.errors import ConversationNotFoundError, NoSpaceError, StorageError
from app.private import PRIVATE_DIR, private_file

MigrationStep = Callable[[sqlite3.Connection], None]


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run DDL statements one by one (`executescript` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _chat_v1(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            system_prompt TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            text TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            stats TEXT NOT NULL DEFAULT '{}',
            stopped INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
        CREATE INDEX conversations_by_update ON conversations(updated_at);
        """,
    )


def _chat_v2(db: sqlite3.Connection) -> None:
    """Conversations branch: each message follows a parent (regenerate and edit add a
    sibling), and a conversation shows the path to its `leaf_id`. Old chats become one
    straight branch."""
    run_script(
        db,
        """
        ALTER TABLE messages ADD COLUMN parent_id INTEGER;
        ALTER TABLE conversations ADD COLUMN leaf_id INTEGER;
        UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p
            WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id);
        UPDATE conversations SET leaf_id = (SELECT MAX(id) FROM messages m
            WHERE m.conversation_id = conversations.id);
        CREATE INDEX messages_by_parent ON messages(conversation_id, parent_id)
        """,
    )


CHAT_MIGRATIONS: list[MigrationStep] = [_chat_v1, _chat_v2]
# `add_message` puts a message after the conversation's current leaf unless told otherwise.
AFTER_LEAF = -1


@dataclass
class Conversation:
    """A chat: its title, system prompt, model and sampling overrides."""

    id: int
    title: str
    system_prompt: str
    model: str
    params: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass
class Message:
    """One turn of a conversation, with the model, parameters and figures that produced it."""

    id: int
    conversation_id: int
    role: str
    text: str
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    stopped: bool = False
    created_at: float = 0.0
    parent_id: int | None = None

    @property
    def citations(self) -> list[Citation]:
        """The numbered sources a reply was given (stored in its stats)."""
        return [Citation.from_record(c) for c in self.stats.get("citations") or []]


class Store:
    """The SQLite database under the data folder; safe to share between threads.

    One connection is shared behind a lock: writes are small (one message at the end of a
    turn), so a lock costs less than a connection per thread and keeps ordering simple.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            # Conversations and the ledger: readable by the person only. SQLite gives its
            # -wal and -shm files the database file's permissions.
            path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
            private_file(path)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            for side in ("-wal", "-shm"):  # left by an older Carrel with the umask's mode
                if path.with_name(path.name + side).exists():
                    private_file(path.with_name(path.name + side))
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS migrations ("
                " component TEXT NOT NULL, version INTEGER NOT NULL, applied_at REAL NOT NULL,"
                " PRIMARY KEY (component, version))"
            )
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, sqlite3.Error) and _is_full(exc):
                raise NoSpaceError(path.parent, 0, _free(path)) from exc
            raise StorageError(f"Cannot open the database {path}: {exc}.") from exc
        self.migrate("chat", CHAT_MIGRATIONS)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically; on any error nothing is written."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_full(exc):
                    raise NoSpaceError(self.path.parent, 0, _free(self.path)) from exc
                if isinstance(exc, sqlite3.OperationalError) and _is_storage_trouble(exc):
                    raise StorageError(
                        f"Cannot write to the database {self.path}: {exc}. Check free disk "
                        "space and that the data folder is writable."
                    ) from exc
                raise

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def migrate(self, component: str, steps: Sequence[MigrationStep]) -> int:
        """Apply the steps of `component` not yet applied; returns its schema version."""
        with self._lock:
            row = self._db.execute(
                "SELECT MAX(version) FROM migrations WHERE component = ?", (component,)
            ).fetchone()
            current = row[0] or 0
            for version, step in enumerate(steps[current:], start=current + 1):
                with self.transaction() as db:
                    step(db)
                    db.execute(
                        "INSERT INTO migrations VALUES (?, ?, ?)", (component, version, time.time())
                    )
            return len(steps)

    # conversations ---------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "New conversation",
        system_prompt: str = "",
        model: str = "",
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        now = time.time()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, system_prompt, model, params, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (title, system_prompt, model, json.dumps(params or {}), now, now),
            )
            new_id = cur.lastrowid
        assert new_id is not None
        return self.conversation(new_id)

    def conversation(self, conversation_id: int) -> Conversation:
        rows = self.query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            raise ConversationNotFoundError(conversation_id)
        return _conversation(rows[0])

    def conversations(self, search: str = "") -> list[Conversation]:
        """All conversations, most recently used first; `search` filters by title."""
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = self.query(
                "SELECT * FROM conversations WHERE title LIKE ? ESCAPE '\\'"
                " ORDER BY updated_at DESC, id DESC",
                (pattern + "%",),
            )
        else:
            rows = self.query("SELECT * FROM conversations ORDER BY updated_at DESC, id DESC")
        return [_conversation(r) for r in rows]

    def update_conversation(
        self,
        conversation_id: int,
        *,
        title: str | None = None,
        system_prompt: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if system_prompt is not None:
            changes["system_prompt"] = system_prompt
        if model is not None:
            changes["model"] = model
        if params is not None:
            changes["params"] = json.dumps(params)
        changes["updated_at"] = time.time()
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self.transaction() as db:
            cur = db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*changes.values(), conversation_id),
            )
            if cur.rowcount == 0:
                raise ConversationNotFoundError(conversation_id)
        return self.conversation(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # messages --------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        model: str = "",
        params: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
        stopped: bool = False,
        parent_id: int | None = AFTER_LEAF,
    ) -> Message:
        """Add a message after `parent_id` (by default the current leaf; None starts a new
        first message) and make it the conversation's leaf."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute(
                "SELECT leaf_id FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if not row:
                raise ConversationNotFoundError(conversation_id)
            if parent_id == AFTER_LEAF:
                parent_id = row["leaf_id"]
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, text, model, params, stats,"
                " stopped, created_at, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    text,
                    model,
                    json.dumps(params or {}),
                    json.dumps(stats or {}),
                    int(stopped),
                    now,
                    parent_id,
                ),
            )
            new_id = cur.lastrowid
            db.execute(
                "UPDATE conversations SET updated_at = ?, leaf_id = ? WHERE id = ?",
                (now, new_id, conversation_id),
            )
        assert new_id is not None
        return Message(
            id=new_id,
            conversation_id=conversation_id,
            role=role,
            text=text,
            model=model,
            params=params or {},
            stats=stats or {},
            stopped=stopped,
            created_at=now,
            parent_id=parent_id,
        )

    def messages(self, conversation_id: int) -> list[Message]:
        """The conversation as shown: the branch from its first message to its leaf."""
        leaf = self.query("SELECT leaf_id FROM conversations WHERE id = ?", (conversation_id,))
        rows = self.query("SELECT * FROM messages WHERE conversation_id = ?", (conversation_id,))
        by_id = {r["id"]: message_of(r) for r in rows}
        path: list[Message] = []
        at = leaf[0]["leaf_id"] if leaf else None
        while at is not None and at in by_id:
            path.append(by_id[at])
            at = by_id[at].parent_id
        return path[::-1]

    def update_message(
        self, message_id: int, *, text: str, stats: dict[str, Any], stopped: bool
    ) -> None:
        """Rewrite a reply in place (a stopped reply that was continued)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE messages SET text = ?, stats = ?, stopped = ? WHERE id = ?",
                (text, json.dumps(stats), int(stopped), message_id),
            )


def _is_full(exc: sqlite3.Error) -> bool:
    return "full" in str(exc).lower()


def _free(path: Path) -> int:
    return int(shutil.disk_usage(path.parent).free)


def _is_storage_trouble(exc: sqlite3.OperationalError) -> bool:
    """A full or read-only disk, a lock, an unreadable file: things a person can fix. A
    mistake in our SQL is a bug and must not be dressed up as one of these."""
    text = str(exc).lower()
    return any(
        word in text for word in ("disk", "full", "readonly", "locked", "unable to open", "i/o")
    )


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        system_prompt=row["system_prompt"],
        model=row["model"],
        params=json.loads(row["params"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def message_of(row: sqlite3.Row) -> Message:
    """A `messages` row as a `Message`."""
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        text=row["text"],
        model=row["model"],
        params=json.loads(row["params"]),
        stats=json.loads(row["stats"]),
        stopped=bool(row["stopped"]),
        created_at=row["created_at"],
        parent_id=row["parent_id"],
    )
