"""Request bodies read into typed values, with OpenAI-shaped 400s for what is wrong.

Only what Carrel honours is read; a parameter it would silently ignore in a way that
changes the answer (`n` > 1, image parts, logprobs) is refused instead, so a client never
believes it got something it did not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.prompt import ChatMessage
from app.server.errors import bad_request
from app.server.formats import response_grammar
from app.server.tools import NO_TOOLS, ToolPlan, plan

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_STOPS = 4


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise bad_request("The body must be a JSON object.")
    return value


@dataclass
class ChatRequest:
    """A chat completion as Carrel will run it."""

    model: str
    messages: list[ChatMessage]
    stream: bool = False
    include_usage: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    stop: tuple[str, ...] = ()
    grammar: str = ""
    schema: dict[str, Any] | None = None
    tools: ToolPlan = NO_TOOLS
    collections: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, body: dict[str, Any], max_tokens_cap: int) -> ChatRequest:
        model = body.get("model", "")
        if not isinstance(model, str):
            raise bad_request("'model' must be a string.", "model")
        if body.get("n", 1) != 1:
            raise bad_request("Only n=1 is supported: ask again for another reply.", "n")
        if body.get("logprobs"):
            raise bad_request("logprobs are not supported.", "logprobs")
        tools = plan(body.get("tools"), body.get("tool_choice"))
        grammar, schema = response_grammar(body.get("response_format"))
        if grammar and tools.grammar:
            raise bad_request("Use either a forced tool call or response_format, not both.")
        messages = [_message(m, i) for i, m in enumerate(_list(body.get("messages"), "messages"))]
        if not messages:
            raise bad_request("'messages' must not be empty.", "messages")
        if tools.instruction:
            messages = _with_system(messages, tools.instruction)
        stream_options = body.get("stream_options") or {}
        return cls(
            model=model,
            messages=messages,
            stream=bool(body.get("stream", False)),
            include_usage=bool(
                isinstance(stream_options, dict) and stream_options.get("include_usage")
            ),
            overrides=sampling(body, max_tokens_cap),
            stop=stops(body.get("stop")),
            grammar=grammar or tools.grammar,
            schema=schema,
            tools=tools,
            collections=_collections(body.get("collections")),
        )


def sampling(body: dict[str, Any], max_tokens_cap: int) -> dict[str, Any]:
    """temperature, top_p, max_tokens (or max_completion_tokens) and seed, checked."""
    out: dict[str, Any] = {}
    for name, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        value = body.get(name)
        if value is None:
            continue
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise bad_request(f"'{name}' must be a number from {low} to {high}.", name)
        out[name] = float(value)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise bad_request("'max_tokens' must be a positive integer.", "max_tokens")
        if limit > max_tokens_cap:
            raise bad_request(
                f"'max_tokens' is {limit}; this server allows at most {max_tokens_cap}.",
                "max_tokens",
            )
        out["max_tokens"] = limit
    seed = body.get("seed")
    if seed is not None:
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
            raise bad_request("'seed' must be an integer from 0 to 2^31-1.", "seed")
        out["seed"] = seed
    return out


def _message(raw: Any, i: int) -> ChatMessage:
    where = f"messages[{i}]"
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be an object.", "messages")
    role = raw.get("role")
    content = _text(raw.get("content"), where)
    if role == "tool":
        return ChatMessage("user", f"Result of the function call: {content}")
    if role == "assistant" and raw.get("tool_calls"):
        calls = [
            {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
            for c in _list(raw["tool_calls"], f"{where}.tool_calls")
            if isinstance(c, dict) and isinstance(c.get("function"), dict)
        ]
        return ChatMessage("assistant", json.dumps(calls[0] if len(calls) == 1 else calls))
    if role not in ROLES:
        raise bad_request(
            f"{where}.role must be system, developer, user, assistant or tool.", "messages"
        )
    return ChatMessage(ROLES[role], content)  # type: ignore[arg-type]


def _text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise bad_request(f"{where}: only text parts are supported.", "messages")
            parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise bad_request(f"{where}.content must be a string or a list of text parts.", "messages")


def _with_system(messages: list[ChatMessage], text: str) -> list[ChatMessage]:
    if messages[0].role == "system":
        return [ChatMessage("system", f"{messages[0].content}\n\n{text}"), *messages[1:]]
    return [ChatMessage("system", text), *messages]


def stops(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise bad_request("'stop' must be a string or a list of strings.", "stop")
    if len(stops) > MAX_STOPS:
        raise bad_request(f"At most {MAX_STOPS} stop strings.", "stop")
    return tuple(stops)


def _collections(value: Any) -> list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad_request("'collections' must be a collection name or a list of them.")
    return list(names)


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"'{name}' must be a list.", name)
    return value
