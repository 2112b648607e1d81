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

from app.server.bounds import bounded_gbnf, integer_bounds
from app.server.errors import bad_request

ANY_OBJECT: dict[str, Any] = {"type": "object"}
# Schema keywords llama-cpp-python's converter does not turn into grammar rules: a reply is
# checked against them after it ends and generated again (another seed) when it fails.
# A character inside a JSON string: the converter's own rule lets raw control characters
# (a newline, a tab) through, which JSON forbids and SmolLM2 writes; this one is JSON's.
JSON_CHAR = (
    r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] '
    r"[0-9a-fA-F])"
)
# (Integer bounds are enforced by `app.server.bounds`; a number's are not.)
UNENFORCED = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "not",
        "if",
        "contains",
        "patternProperties",
        "propertyNames",
        "dependentRequired",
        "dependentSchemas",
    }
)


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
    try:
        converter = _converter()
        converter.visit(converter.resolve_refs(json.loads(json.dumps(schema)), "request"), "")
        if "char" in converter._rules:
            converter._rules["char"] = JSON_CHAR
        return str(converter.format_grammar())
    except Exception as exc:  # the converter raises bare Exceptions and KeyErrors
        raise bad_request(
            f"The JSON schema cannot be turned into a grammar: {exc}", "response_format"
        ) from exc


def _converter() -> Any:
    """llama-cpp-python's schema converter (as `json_schema_to_gbnf` makes it), taught
    integer bounds (`app.server.bounds`)."""
    from llama_cpp.llama_grammar import RESERVED_NAMES, SchemaConverter

    class Bounded(SchemaConverter):
        def visit(self, schema: Any, name: str) -> Any:
            bounds = integer_bounds(schema) if isinstance(schema, dict) else None
            if bounds is None:
                return super().visit(schema, name)  # type: ignore[no-untyped-call]
            rule = name + "-" if name in RESERVED_NAMES else name or "root"
            return self._add_rule(rule, f"({bounded_gbnf(*bounds)}) space")  # type: ignore[no-untyped-call]

    return Bounded(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)  # type: ignore[no-untyped-call]


def unenforced(schema: Any) -> bool:
    """Whether `schema` uses a keyword the grammar cannot enforce (see `UNENFORCED`)."""
    if isinstance(schema, dict):
        own = [k for k in schema if k in UNENFORCED]
        if schema.get("type") == "integer":
            own = [k for k in own if "imum" not in k]
        return bool(own) or any(unenforced(v) for v in schema.values())
    if isinstance(schema, list):
        return any(unenforced(v) for v in schema)
    return False


def violation(text: str, schema: dict[str, Any]) -> str:
    """Why `text` is not a JSON value valid under `schema` ("" when it is)."""
    import jsonschema

    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"not JSON ({exc})"
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(value)
    )
    return error.message if error is not None else ""
