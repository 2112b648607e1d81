"""`POST /v1/chat/completions`: one reply, whole or streamed by server-sent events.

The reply runs as a `Job` (its own thread, the Workbench's model owner thread for the
tokens). A request naming `collections` is answered from their best passages and carries
`citations`, numbered as the model cites them. A request that asks for a remote model is
refused here: the server has no person to ask for consent (see `Service.remote_refusal`).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from app.engine.backend import Done, Token
from app.engine.constraints import Constraints
from app.server.errors import ApiError
from app.server.formats import unenforced, violation
from app.server.jobs import Job, Work
from app.server.requestlog import Entry
from app.server.requests import ChatRequest
from app.server.scheduler import ModelScheduler
from app.server.tools import read_calls

log = logging.getLogger(__name__)


# Tries at a reply that must match a schema the grammar cannot wholly enforce.
ATTEMPTS = 3


@dataclass
class Prepared:
    """A parsed request made ready to run: its work, and the passages it cites. `hold`:
    the reply is checked before it is sent (it may be a tool call, or must match a schema
    the grammar does not wholly enforce), so it is not streamed token by token."""

    request: ChatRequest
    work: Work
    citations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hold(self) -> bool:
        r = self.request
        return r.tools.active or (r.schema is not None and unenforced(r.schema))


def prepared(request: ChatRequest, work: Work, citations: list[dict[str, Any]]) -> Prepared:
    return Prepared(request, work, citations)


def constraints_of(request: ChatRequest) -> Constraints:
    return Constraints(stop=request.stop, grammar=request.grammar)


@dataclass
class Outcome:
    """A finished reply as the client gets it."""

    model: str
    done: Done
    message: dict[str, Any]
    finish: str


async def finished(scheduler: ModelScheduler, p: Prepared, entry: Entry) -> Outcome:
    """Run the reply to its end: read tool calls, and check a schema the grammar cannot
    wholly enforce, trying again with the next seed when the reply breaks it."""
    work = p.work
    problem = ""
    for attempt in range(ATTEMPTS):
        job = Job(scheduler, work)
        done: Done | None = None
        async for event in job.events():
            if isinstance(event, Done):
                done = event
        assert done is not None, "a reply always ends with Done"
        entry.finish(job.model, done.stats.prompt_tokens, done.stats.completion_tokens)
        finish = finish_reason(done)
        calls = read_calls(done.text, p.request.tools)
        if calls:
            message = {"role": "assistant", "content": None, "tool_calls": calls}
            return Outcome(job.model, done, message, "tool_calls")
        schema = p.request.schema
        if schema is not None and finish == "stop" and unenforced(schema):
            problem = violation(done.text, schema)
            if problem:
                log.info("Reply %d broke the schema (%s); trying again", attempt + 1, problem)
                seed = done.stats.seed + 1
                work = replace(work, params=replace(work.params, seed=seed % 2**31))
                continue
        return Outcome(job.model, done, {"role": "assistant", "content": done.text}, finish)
    raise ApiError(
        500,
        f"The model did not write a reply matching the schema in {ATTEMPTS} tries ({problem}). "
        "Simplify the schema or use a larger model.",
        code="schema_not_met",
    )


async def complete(scheduler: ModelScheduler, p: Prepared, entry: Entry) -> dict[str, Any]:
    """The whole reply as one `chat.completion` object."""
    out = await finished(scheduler, p, entry)
    body: dict[str, Any] = {
        "id": new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": out.model,
        "choices": [
            {"index": 0, "message": out.message, "finish_reason": out.finish, "logprobs": None}
        ],
        "usage": usage_of(out.done),
    }
    if p.citations:
        body["citations"] = p.citations
    return body


async def stream(scheduler: ModelScheduler, p: Prepared, entry: Entry) -> AsyncIterator[bytes]:
    """The reply as `chat.completion.chunk` events, then `data: [DONE]`; a held reply
    (`Prepared.hold`) arrives in one piece at its end."""
    ident, created = new_id(), int(time.time())
    model = ""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    try:
        if p.hold:
            out = await finished(scheduler, p, entry)
            model = out.model
            yield chunk({"role": "assistant", "content": ""})
            if "tool_calls" in out.message:
                yield chunk({"tool_calls": [{"index": 0, **c} for c in out.message["tool_calls"]]})
            else:
                yield chunk({"content": out.message["content"]})
            done, finish = out.done, out.finish
        else:
            job = Job(scheduler, p.work)
            done_or_none: Done | None = None
            async for event in job.events():
                if not model:
                    model = job.model
                    yield chunk({"role": "assistant", "content": ""})
                if isinstance(event, Token):
                    yield chunk({"content": event.text})
                else:
                    done_or_none = event
            assert done_or_none is not None, "a reply always ends with Done"
            done, finish = done_or_none, finish_reason(done_or_none)
            entry.finish(model, done.stats.prompt_tokens, done.stats.completion_tokens)
        yield chunk({}, finish, **({"citations": p.citations} if p.citations else {}))
        if p.request.include_usage:
            usage = {"id": ident, "object": "chat.completion.chunk", "created": created}
            usage |= {"model": model, "choices": [], "usage": usage_of(done)}
            yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    except Exception as exc:
        # The status line is gone; the error travels as the stream's last event.
        from app.server.app import error_of

        api = error_of(exc)
        entry.fail(api.status)
        yield b"data: " + json.dumps(api.body()).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def finish_reason(done: Done) -> str:
    return "length" if done.stats.finish_reason == "length" else "stop"


def usage_of(done: Done) -> dict[str, int]:
    s = done.stats
    return {
        "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens,
        "total_tokens": s.prompt_tokens + s.completion_tokens,
    }


def new_id(prefix: str = "chatcmpl-") -> str:
    return prefix + secrets.token_hex(12)
