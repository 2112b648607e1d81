"""A conversation written out as Markdown or JSON (File → Export, and the tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.store import Store


def markdown(store: Store, conversation_id: int) -> str:
    c = store.conversation(conversation_id)
    out = [f"# {c.title}", ""]
    if c.system_prompt:
        out += [f"> System: {c.system_prompt}", ""]
    for m in store.messages(conversation_id):
        who = "You" if m.role == "user" else f"Assistant ({m.model})" if m.model else "Assistant"
        out += [f"## {who}", "", m.text, ""]
        if m.stopped:
            out += ["*(stopped)*", ""]
    return "\n".join(out)


def as_json(store: Store, conversation_id: int) -> dict[str, Any]:
    c = store.conversation(conversation_id)
    return {
        "title": c.title,
        "system_prompt": c.system_prompt,
        "model": c.model,
        "params": c.params,
        "created_at": _iso(c.created_at),
        "messages": [
            {
                "role": m.role,
                "text": m.text,
                "model": m.model,
                "params": m.params,
                "stats": m.stats,
                "stopped": m.stopped,
                "created_at": _iso(m.created_at),
            }
            for m in store.messages(conversation_id)
        ],
    }


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()
