"""Tool calls: the request's `tools` told to the model, and its reply read back as calls.

A small local model has no trained tool format Carrel could rely on, so the tools go into
the system prompt as JSON with one instruction: to call one, reply with only
`{"name": …, "arguments": {…}}`. When the client requires a call (`tool_choice`
"required" or a named function) a grammar makes the reply exactly such an object, with
`arguments` following that function's parameter schema. With "auto" the model may answer
in words; a reply that is such an object is returned as a call.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from app.server.errors import bad_request
from app.server.formats import schema_grammar

INSTRUCTION = (
    "You can call these functions:\n{tools}\n"
    'To call one, reply with only a JSON object {{"name": <function name>, '
    '"arguments": <its arguments>}} and nothing else.'
)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolPlan:
    """What the model is told (`instruction`, empty for none), the grammar that forces a
    call (empty when a call is not required), and the tools' names."""

    instruction: str
    grammar: str
    names: frozenset[str]

    @property
    def active(self) -> bool:
        return bool(self.names)


NO_TOOLS = ToolPlan("", "", frozenset())


def plan(tools: Any, tool_choice: Any) -> ToolPlan:
    """Read `tools` and `tool_choice` (OpenAI's shapes); 400 for anything else."""
    if tools is None:
        if tool_choice not in (None, "none", "auto"):
            raise bad_request("'tool_choice' needs 'tools'.", "tool_choice")
        return NO_TOOLS
    parsed = [_tool(t) for t in _as_list(tools)]
    if not parsed or tool_choice == "none":
        return NO_TOOLS
    chosen = parsed
    forced = False
    if tool_choice in (None, "auto"):
        pass
    elif tool_choice == "required":
        forced = True
    elif isinstance(tool_choice, dict) and isinstance(tool_choice.get("function"), dict):
        wanted = tool_choice["function"].get("name")
        chosen = [t for t in parsed if t.name == wanted]
        if not chosen:
            raise bad_request(f"'tool_choice' names '{wanted}', which is not in 'tools'.")
        forced = True
    else:
        raise bad_request(
            "'tool_choice' must be 'none', 'auto', 'required' or a named function.",
            "tool_choice",
        )
    listing = json.dumps(
        [
            {"name": t.name, "description": t.description, "parameters": t.parameters}
            for t in chosen
        ],
        ensure_ascii=False,
    )
    grammar = schema_grammar(_call_schema(chosen)) if forced else ""
    return ToolPlan(INSTRUCTION.format(tools=listing), grammar, frozenset(t.name for t in chosen))


def read_calls(text: str, plan: ToolPlan) -> list[dict[str, Any]]:
    """The tool calls in a reply (OpenAI's `tool_calls`), empty when it is plain text."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    if not plan.active or not body.startswith("{"):
        return []
    try:
        value = json.loads(body)
    except ValueError:
        return []
    if not isinstance(value, dict) or value.get("name") not in plan.names:
        return []
    arguments = value.get("arguments", {})
    return [
        {
            "id": "call_" + secrets.token_hex(12),
            "type": "function",
            "function": {"name": value["name"], "arguments": json.dumps(arguments)},
        }
    ]


def _call_schema(tools: list[Tool]) -> dict[str, Any]:
    options = [
        {
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": t.parameters},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for t in tools
    ]
    return options[0] if len(options) == 1 else {"oneOf": options}


def _tool(raw: Any) -> Tool:
    if not isinstance(raw, dict) or raw.get("type", "function") != "function":
        raise bad_request("Each tool must be {'type': 'function', 'function': {...}}.", "tools")
    fn = raw.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise bad_request("Each tool's function needs a 'name'.", "tools")
    params = fn.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise bad_request(f"The parameters of '{fn['name']}' must be a JSON schema.", "tools")
    return Tool(fn["name"], str(fn.get("description") or ""), params)


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request("'tools' must be a list.", "tools")
    return value
