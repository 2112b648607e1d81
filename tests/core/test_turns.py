"""Reply actions in the core: regenerate keeps the old reply beside the new one, editing
an earlier message branches the conversation, a stopped reply is continued into the same
message, and every variant can be shown again (real SmolLM2, real SQLite)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from app.engine.backend import Done, Token
from app.errors import CarrelError
from app.replies import Reply
from app.store import CHAT_MIGRATIONS, Store
from app.workbench import Workbench

pytestmark = pytest.mark.slow
SMOL = "SmolLM2-135M-Instruct.Q4_1"


def run(reply: Reply) -> Done:
    done = [e for e in reply if isinstance(e, Done)]
    assert len(done) == 1
    return done[0]


@pytest.fixture
def wb(workbench: Workbench) -> Workbench:
    workbench.load_model(SMOL)
    return workbench


def test_regenerate_keeps_both_variants_and_browses_them(wb: Workbench) -> None:
    c = wb.new_conversation()
    first = run(wb.reply(c.id, "Name a colour.", {"max_tokens": 8, "seed": 1}))
    second = run(wb.turns.regenerate(c.id, overrides={"max_tokens": 8, "seed": 2}))
    thread = wb.turns.thread(c.id)
    assert [t.message.role for t in thread] == ["user", "assistant"]
    last = thread[-1]
    assert last.message.text == second.text
    assert last.describe() == "2/2"
    assert [m.text for m in wb.turns.branches.variants(last.message.id)] == [
        first.text,
        second.text,
    ]
    previous = last.neighbour(-1)
    assert previous is not None and last.neighbour(+1) is None
    wb.turns.select(previous)
    shown = wb.turns.thread(c.id)
    assert shown[-1].message.text == first.text and shown[-1].describe() == "1/2"
    # The model was asked the conversation up to the question, not the old reply too.
    assert wb.store.messages(c.id)[-1].text == first.text


def test_edit_branches_and_both_branches_stay(wb: Workbench) -> None:
    c = wb.new_conversation()
    params = {"max_tokens": 6, "seed": 3}
    run(wb.reply(c.id, "Say hello.", params))
    run(wb.reply(c.id, "Now say goodbye.", params))
    old = wb.turns.thread(c.id)
    asked = old[2].message
    run(wb.turns.edit(c.id, asked.id, "Now say thanks.", params))
    new = wb.turns.thread(c.id)
    assert [t.message.text for t in new[:2]] == [t.message.text for t in old[:2]]
    assert new[2].message.text == "Now say thanks." and new[2].describe() == "2/2"
    assert len(new) == 4 and new[3].describe() == ""
    # Back to the first branch: its question and its answer, as they were.
    wb.turns.select(asked.id)
    back = wb.turns.thread(c.id)
    assert [t.message.id for t in back] == [t.message.id for t in old]
    # Export and the model's history follow the branch shown.
    assert "Now say goodbye." in wb.export_markdown(c.id)
    assert "Now say thanks." not in wb.export_markdown(c.id)


def test_edit_of_the_first_message_branches_at_the_root(wb: Workbench) -> None:
    c = wb.new_conversation()
    run(wb.reply(c.id, "One.", {"max_tokens": 4}))
    first = wb.turns.thread(c.id)[0].message
    run(wb.turns.edit(c.id, first.id, "Two.", {"max_tokens": 4}))
    thread = wb.turns.thread(c.id)
    assert thread[0].message.text == "Two." and thread[0].describe() == "2/2"
    assert thread[0].message.parent_id is None


def test_continue_goes_on_from_where_it_stopped(wb: Workbench) -> None:
    c = wb.new_conversation()
    reply = wb.reply(c.id, "Count from one to twenty in words.", {"max_tokens": 200, "seed": 5})
    seen = 0
    for event in reply:
        if isinstance(event, Token):
            seen += 1
            if seen == 4:
                reply.cancel()
    assert reply.message is not None and reply.message.stopped
    partial = reply.message.text
    more = wb.turns.continue_reply(c.id, overrides={"max_tokens": 12, "seed": 5})
    done = run(more)
    assert done.text.startswith(partial) and len(done.text) > len(partial)
    thread = wb.turns.thread(c.id)
    assert len(thread) == 2 and thread[-1].message.id == reply.message.id
    assert thread[-1].message.text == done.text
    assert thread[-1].message.stopped == done.stats.stopped


def test_actions_refuse_what_they_cannot_do(wb: Workbench) -> None:
    c = wb.new_conversation()
    with pytest.raises(CarrelError, match="no reply to regenerate"):
        wb.turns.regenerate(c.id)
    run(wb.reply(c.id, "Hi.", {"max_tokens": 4}))
    thread = wb.turns.thread(c.id)
    if not thread[-1].message.stopped:
        with pytest.raises(CarrelError, match="Only a stopped reply"):
            wb.turns.continue_reply(c.id)
    with pytest.raises(CarrelError, match="Only your own messages"):
        wb.turns.edit(c.id, thread[-1].message.id, "x")
    with pytest.raises(CarrelError, match="empty"):
        wb.turns.edit(c.id, thread[0].message.id, "  ")
    assert len(wb.turns.thread(c.id)) == 2


def test_a_failed_regenerate_leaves_the_old_reply_shown(wb: Workbench) -> None:
    c = wb.new_conversation()
    done = run(wb.reply(c.id, "Hi.", {"max_tokens": 4}))
    wb.unload()
    with pytest.raises(CarrelError):
        wb.turns.regenerate(c.id)
    assert wb.turns.thread(c.id)[-1].message.text == done.text


def test_old_conversations_become_one_branch(tmp_path: Path) -> None:
    """A database written before branching opens with each chat as one straight branch."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "CREATE TABLE migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
        " applied_at REAL NOT NULL, PRIMARY KEY (component, version))"
    )
    CHAT_MIGRATIONS[0](db)  # the schema as the old code left it
    db.execute("INSERT INTO migrations VALUES ('chat', 1, ?)", (time.time(),))
    now = time.time()
    db.execute("INSERT INTO conversations VALUES (1, 't', '', '', '{}', ?, ?)", (now, now))
    for i, role in enumerate(["user", "assistant", "user", "assistant"]):
        db.execute(
            "INSERT INTO messages (conversation_id, role, text, created_at) VALUES (1, ?, ?, ?)",
            (role, f"m{i}", now),
        )
    db.close()
    store = Store(path)
    try:
        assert [m.text for m in store.messages(1)] == ["m0", "m1", "m2", "m3"]
        store.add_message(1, "user", "m4")
        assert [m.text for m in store.messages(1)][-2:] == ["m3", "m4"]
    finally:
        store.close()
