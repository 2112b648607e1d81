"""Structured output: `response_format` and forced tool calls as llama.cpp grammars.

llama.cpp samples only tokens the grammar allows, so a `json_schema` reply always parses
and has the schema's shape (unless `max_tokens` cuts it short: `finish_reason` then says
"length", as OpenAI's does). The grammar comes from llama-cpp-python's own converter
(`json_schema_to_gbnf`), whose whitespace rule is bounded; its generic `JSON_GBNF` allows
endless whitespace, which a small model will happily produce, so `json_object` is the
schema `{"type": "object"}` through the same converter.
"""

from __future__ import annotations

import json
from typing import Any

from app.server.errors import bad_request

ANY_OBJECT: dict[str, Any] = {"type": "object"}


def response_grammar(response_format: Any) -> tuple[str, dict[str, Any] | None]:
    """The GBNF grammar a `response_format` asks for ("" for plain text) and the schema
    the reply must validate against (None when there is no schema)."""
    if response_format is None:
        return "", None
    if not isinstance(response_format, dict):
        raise bad_request("'response_format' must be an object.", "response_format")
    kind = response_format.get("type", "text")
    if kind == "text":
        return "", None
    if kind == "json_object":
        return schema_grammar(ANY_OBJECT), ANY_OBJECT
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise bad_request(
                "'response_format.json_schema.schema' must be a JSON schema object.",
                "response_format",
            )
        schema: dict[str, Any] = spec["schema"]
        return schema_grammar(schema), schema
    raise bad_request(
        f"'response_format.type' must be text, json_object or json_schema, not {kind!r}.",
        "response_format",
    )


def schema_grammar(schema: dict[str, Any]) -> str:
    """A GBNF grammar for `schema`; a schema the converter cannot take is the client's
    mistake (400), said in one line."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return str(json_schema_to_gbnf(json.dumps(schema)))
    except Exception as exc:  # the converter raises bare Exceptions and KeyErrors
        raise bad_request(
            f"The JSON schema cannot be turned into a grammar: {exc}", "response_format"
        ) from exc
