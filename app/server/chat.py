"""`POST /v1/chat/completions`: one reply, whole or streamed by server-sent events.

The reply runs as a `Job` (its own thread, the Workbench's model owner thread for the
tokens). A request naming `collections` is answered from their best passages and carries
`citations`, numbered as the model cites them. A request that asks for a remote model is
refused here: the server has no person to ask for consent (see `Service.remote_refusal`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.engine.backend import Done, Token
from app.engine.constraints import Constraints
from app.server.jobs import Job, Work
from app.server.requestlog import Entry
from app.server.requests import ChatRequest
from app.server.tools import read_calls


@dataclass
class Prepared:
    """A parsed request made ready to run: its work, and the passages it cites."""

    request: ChatRequest
    work: Work
    citations: list[dict[str, Any]] = field(default_factory=list)


def prepared(request: ChatRequest, work: Work, citations: list[dict[str, Any]]) -> Prepared:
    return Prepared(request, work, citations)


def constraints_of(request: ChatRequest) -> Constraints:
    return Constraints(stop=request.stop, grammar=request.grammar)


async def complete(job: Job, p: Prepared, entry: Entry) -> dict[str, Any]:
    """The whole reply as one `chat.completion` object."""
    done: Done | None = None
    async for event in job.events():
        if isinstance(event, Done):
            done = event
    assert done is not None, "a reply always ends with Done"
    entry.finish(job.model, done.stats.prompt_tokens, done.stats.completion_tokens)
    message: dict[str, Any] = {"role": "assistant", "content": done.text}
    finish = _finish_reason(done)
    calls = read_calls(done.text, p.request.tools)
    if calls:
        message = {"role": "assistant", "content": None, "tool_calls": calls}
        finish = "tool_calls"
    body: dict[str, Any] = {
        "id": _id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": job.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(done),
    }
    if p.citations:
        body["citations"] = p.citations
    return body


async def stream(job: Job, p: Prepared, entry: Entry) -> AsyncIterator[bytes]:
    """The reply as `chat.completion.chunk` events, then `data: [DONE]`. With tools the
    reply is held back until it ends, since it may turn out to be a call."""
    ident, created = _id(), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": job.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    hold = p.request.tools.active
    started = False
    try:
        async for event in job.events():
            if not started:
                started = True
                yield chunk({"role": "assistant", "content": ""})
            if isinstance(event, Token):
                if not hold:
                    yield chunk({"content": event.text})
                continue
            entry.finish(job.model, event.stats.prompt_tokens, event.stats.completion_tokens)
            finish = _finish_reason(event)
            calls = read_calls(event.text, p.request.tools) if hold else []
            if calls:
                delta = {"tool_calls": [{"index": 0, **c} for c in calls]}
                yield chunk(delta)
                finish = "tool_calls"
            elif hold:
                yield chunk({"content": event.text})
            extra = {"citations": p.citations} if p.citations else {}
            yield chunk({}, finish, **extra)
            if p.request.include_usage:
                usage = {"id": ident, "object": "chat.completion.chunk", "created": created}
                usage |= {"model": job.model, "choices": [], "usage": _usage(event)}
                yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    except Exception as exc:
        # The status line is gone; the error travels as the stream's last event.
        from app.server.app import error_of

        api = error_of(exc)
        entry.fail(api.status)
        yield b"data: " + json.dumps(api.body()).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def _finish_reason(done: Done) -> str:
    return "length" if done.stats.finish_reason == "length" else "stop"


def _usage(done: Done) -> dict[str, int]:
    s = done.stats
    return {
        "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens,
        "total_tokens": s.prompt_tokens + s.completion_tokens,
    }


def _id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)
