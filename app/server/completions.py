"""`POST /v1/completions`: OpenAI's legacy text completion, whole or streamed.

The prompt is continued as it is, without the chat template (`Constraints.raw`), which is
what notebooks and editors that complete code or text expect. `prompt` is a string or a
list of strings; each is one choice, generated one after another on the model's owner
thread. Sampling is read as for chat (temperature, top_p, max_tokens, stop, seed).
`max_tokens` defaults to OpenAI's 16. What Carrel would silently get wrong is refused with
a 400: `echo`, `suffix`, `logprobs`, `best_of` and `n` above 1, and token-id prompts.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.engine.backend import Done, GenerationParams, Token
from app.engine.constraints import Constraints
from app.prompt import ChatMessage
from app.server.chat import finish_reason, new_id, usage_of
from app.server.errors import bad_request
from app.server.jobs import Job, Work
from app.server.requestlog import Entry
from app.server.requests import sampling, stops
from app.server.scheduler import ModelScheduler

# OpenAI's default for this endpoint (chat's is the settings' reply length).
DEFAULT_MAX_TOKENS = 16
# Prompts in one request; each is a whole generation.
MAX_PROMPTS = 16


@dataclass
class CompletionRequest:
    """A text completion as Carrel will run it: one `Work` per prompt."""

    model: str
    prompts: list[str]
    stream: bool = False
    include_usage: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    stop: tuple[str, ...] = ()

    @classmethod
    def parse(cls, body: dict[str, Any], max_tokens_cap: int) -> CompletionRequest:
        model = body.get("model", "")
        if not isinstance(model, str):
            raise bad_request("'model' must be a string.", "model")
        if body.get("echo"):
            raise bad_request("echo is not supported: the reply holds the new text only.", "echo")
        if body.get("suffix"):
            raise bad_request("suffix (fill in the middle) is not supported.", "suffix")
        if body.get("logprobs") is not None:
            raise bad_request("logprobs are not supported.", "logprobs")
        for name in ("n", "best_of"):
            if body.get(name, 1) not in (None, 1):
                raise bad_request(f"Only {name}=1 is supported: ask again for another.", name)
        overrides = sampling(body, max_tokens_cap)
        overrides.setdefault("max_tokens", min(DEFAULT_MAX_TOKENS, max_tokens_cap))
        options = body.get("stream_options") or {}
        return cls(
            model=model,
            prompts=_prompts(body.get("prompt")),
            stream=bool(body.get("stream", False)),
            include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
            overrides=overrides,
            stop=stops(body.get("stop")),
        )

    def works(self, params: GenerationParams) -> list[Work]:
        constraints = Constraints(stop=self.stop, raw=True)
        return [
            Work(self.model, [ChatMessage("user", p)], params, constraints) for p in self.prompts
        ]


def _prompts(value: Any) -> list[str]:
    prompts = [value] if isinstance(value, str) else value
    if not isinstance(prompts, list) or not prompts:
        raise bad_request("'prompt' must be a string or a non-empty list of strings.", "prompt")
    if not all(isinstance(p, str) for p in prompts):
        raise bad_request(
            "'prompt' as token ids is not supported: send the text instead.", "prompt"
        )
    if len(prompts) > MAX_PROMPTS:
        raise bad_request(f"At most {MAX_PROMPTS} prompts per request.", "prompt")
    return prompts


async def complete(
    scheduler: ModelScheduler, request: CompletionRequest, works: list[Work], entry: Entry
) -> dict[str, Any]:
    """Every prompt's completion as one `text_completion` object."""
    choices: list[dict[str, Any]] = []
    dones: list[Done] = []
    model = ""
    for index, work in enumerate(works):
        job = Job(scheduler, work)
        async for event in job.events():
            if isinstance(event, Done):
                dones.append(event)
        model = job.model
        done = dones[-1]
        choices.append(
            {
                "text": done.text,
                "index": index,
                "logprobs": None,
                "finish_reason": finish_reason(done),
            }
        )
    usage = _total(dones)
    entry.finish(model, usage["prompt_tokens"], usage["completion_tokens"])
    return {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
    }


async def stream(
    scheduler: ModelScheduler, request: CompletionRequest, works: list[Work], entry: Entry
) -> AsyncIterator[bytes]:
    """Pieces of text as `text_completion` events (choice by choice), each choice's end
    with its `finish_reason`, the usage if asked, then `data: [DONE]`."""
    ident, created = new_id("cmpl-"), int(time.time())
    model = ""
    dones: list[Done] = []

    def event(body: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    def chunk(index: int, text: str, finish: str | None = None) -> bytes:
        choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish}
        return event(
            {
                "id": ident,
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [choice],
            }
        )

    try:
        for index, work in enumerate(works):
            job = Job(scheduler, work)
            async for item in job.events():
                model = model or job.model
                if isinstance(item, Token):
                    yield chunk(index, item.text)
                else:
                    dones.append(item)
            yield chunk(index, "", finish_reason(dones[-1]))
        usage = _total(dones)
        entry.finish(model, usage["prompt_tokens"], usage["completion_tokens"])
        if request.include_usage:
            yield event(
                {
                    "id": ident,
                    "object": "text_completion",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
    except Exception as exc:
        # The status line is gone; the error travels as the stream's last event.
        from app.server.app import error_of

        api = error_of(exc)
        entry.fail(api.status)
        yield event(api.body())
    yield b"data: [DONE]\n\n"


def _total(dones: list[Done]) -> dict[str, int]:
    total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for done in dones:
        for key, value in usage_of(done).items():
            total[key] += value
    return total
