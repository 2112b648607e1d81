import sqlite3
from pathlib import Path

import pytest

from app.errors import ConversationNotFoundError
from app.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_wal_mode_and_migrations_recorded(store: Store) -> None:
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    rows = store.query("SELECT component, version FROM migrations")
    assert [(r[0], r[1]) for r in rows] == [("chat", 1), ("chat", 2)]


def test_migrations_apply_once(tmp_path: Path) -> None:
    calls = []

    def step(db: sqlite3.Connection) -> None:
        calls.append(1)
        db.execute("CREATE TABLE extra (x)")

    s = Store(tmp_path / "db.sqlite3")
    assert s.migrate("extra", [step]) == 1
    s.close()
    s = Store(tmp_path / "db.sqlite3")
    s.migrate("extra", [step])
    s.close()
    assert calls == [1]


def test_failed_migration_writes_nothing(store: Store) -> None:
    def bad(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.migrate("bad", [bad])
    assert not store.query("SELECT name FROM sqlite_master WHERE name = 'half'")
    assert not store.query("SELECT * FROM migrations WHERE component = 'bad'")


def test_conversations_and_messages(store: Store) -> None:
    c = store.create_conversation("Budget review", system_prompt="Be brief")
    store.add_message(c.id, "user", "hello")
    m = store.add_message(
        c.id, "assistant", "hi", model="m", stats={"tokens_per_s": 80.0}, stopped=True
    )
    got = store.messages(c.id)
    assert [x.role for x in got] == ["user", "assistant"]
    assert got[1] == m
    assert got[1].stopped and got[1].stats == {"tokens_per_s": 80.0}


def test_search_rename_delete(store: Store) -> None:
    a = store.create_conversation("Budget review")
    store.create_conversation("Holiday plans")
    store.create_conversation("100% sure")
    assert [c.title for c in store.conversations("bud")] == ["Budget review"]
    assert [c.title for c in store.conversations("100%")] == ["100% sure"]
    store.update_conversation(a.id, title="Q3 budget")
    assert store.conversation(a.id).title == "Q3 budget"
    store.add_message(a.id, "user", "x")
    store.delete_conversation(a.id)
    with pytest.raises(ConversationNotFoundError):
        store.conversation(a.id)
    assert store.query("SELECT COUNT(*) FROM messages")[0][0] == 0


def test_most_recent_first(store: Store) -> None:
    a = store.create_conversation("a")
    store.create_conversation("b")
    store.add_message(a.id, "user", "bump")
    assert store.conversations()[0].id == a.id


def test_message_to_missing_conversation(store: Store) -> None:
    with pytest.raises(ConversationNotFoundError):
        store.add_message(999, "user", "x")
