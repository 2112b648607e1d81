"""`carrel conversation`: send, regenerate, continue, edit and switch from the shell, on
the same stored variants and branches as the window (real SmolLM2, in this process)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.engine.backend import Token
from app.evaluate.usage import UsageLog
from app.workbench import Workbench
from tests.support.runners import cli

pytestmark = pytest.mark.slow
SHORT = ("--max-tokens", "6", "--seed", "3")


def run_json(*argv: str) -> Any:
    code, out, err = cli("conversation", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_send_regenerate_switch_and_edit() -> None:
    cid = run_json("new")["id"]
    first = run_json("send", str(cid), "--prompt", "Say hi.", *SHORT)
    assert first["role"] == "assistant" and first["variants"] == [first["id"]]
    again = run_json("regenerate", str(cid), *SHORT, "--temperature", "1.5")
    assert again["variant"] == 2 and again["variants"] == [first["id"], again["id"]]
    shown = run_json("switch", str(cid), str(first["id"]))
    assert [t["id"] for t in shown][-1] == first["id"]
    asked = shown[0]["id"]
    branch = run_json("edit", str(cid), str(asked), "--prompt", "Say bye.", *SHORT)
    thread = run_json("show", str(cid))
    assert thread[0]["text"] == "Say bye." and thread[0]["variant"] == 2
    assert thread[-1]["id"] == branch["id"]
    code, out, _ = cli("conversation", "show", str(cid))
    assert code == 0 and "(2/2)" in out and f"[{branch['id']}] Assistant" in out
    # Each reply the shell made is in the usage log, as the window's are.
    wb = Workbench.open()
    try:
        rows = UsageLog(wb.store).summary()
    finally:
        wb.close()
    assert sum(r.replies for r in rows) == 3 and sum(r.tokens_out for r in rows) > 0


def test_continue_a_reply_stopped_in_the_window() -> None:
    wb = Workbench.open()
    try:
        wb.load_model("SmolLM2-135M-Instruct.Q4_1")
        c = wb.new_conversation()
        # Seeded: with a random seed the model sometimes ends its continuation at once.
        reply = wb.reply(c.id, "Count to twenty in words.", {"max_tokens": 200, "seed": 3})
        for n, _token in enumerate(e for e in reply if isinstance(e, Token)):
            if n == 2:
                reply.cancel()
        assert reply.message is not None and reply.message.stopped
        partial = reply.message.text
    finally:
        wb.close()
    more = run_json("continue", str(c.id), "--max-tokens", "8", "--seed", "3")
    assert more["id"] == reply.message.id and more["text"].startswith(partial)
    assert len(more["text"]) > len(partial)


def test_errors_are_one_line() -> None:
    cid = run_json("new")["id"]
    code, _, err = cli("conversation", "regenerate", str(cid))
    assert code == 1 and "no reply to regenerate" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("conversation", "show", "9999")
    assert code == 1 and "9999" in err


def test_a_one_off_chat_is_counted_in_the_usage_log() -> None:
    code, out, err = cli("chat", "--prompt", "Say hi.", *SHORT, "--json")
    assert code == 0, err
    reply = json.loads(out)
    wb = Workbench.open()
    try:
        [row] = UsageLog(wb.store).summary()
    finally:
        wb.close()
    assert (row.model, row.route, row.replies, row.failures) == (
        reply["model"],
        "local-only",
        1,
        0,
    )
    assert row.tokens_out == reply["completion_tokens"] > 0
