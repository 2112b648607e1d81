"""JSON output and tool calls, enforced by llama.cpp grammars: with SmolLM2 (135M, which
left to itself rarely writes valid JSON) every reply must parse and validate."""

from __future__ import annotations

import json

import jsonschema
import openai
import pytest

from tests.server.conftest import MODEL, Served

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 16},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "city": {"type": "string", "enum": ["Paris", "Lagos", "Lima", "Oslo"]},
        "pets": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
    },
    "required": ["name", "age", "city", "pets"],
    "additionalProperties": False,
}
PROMPTS = [
    "Invent a person.",
    "Describe a sailor as JSON.",
    "Who lives next door?",
    "Write a poem about the sea.",
    "Give me a character for a story.",
]
RUNS = 20


def test_json_schema_output_validates_every_time(served: Served) -> None:
    for run in range(RUNS):
        reply = served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": PROMPTS[run % len(PROMPTS)]}],
            max_tokens=80,
            seed=run,
            temperature=1.0,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "person", "schema": PERSON, "strict": True},
            },
        )
        text = reply.choices[0].message.content
        assert reply.choices[0].finish_reason == "stop", f"run {run} was cut short: {text!r}"
        jsonschema.validate(json.loads(text or ""), PERSON)


def test_json_object_is_an_object_and_streams(served: Served) -> None:
    chunks = served.client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "List two fruits."}],
        max_tokens=200,
        seed=3,
        response_format={"type": "json_object"},
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)


def test_a_schema_the_grammar_cannot_take_is_a_400(served: Served) -> None:
    with pytest.raises(openai.BadRequestError, match="grammar"):
        served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "x"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "bad", "schema": {"$ref": "#/nowhere"}},
            },
        )


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city today.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 24},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The time now in a time zone.",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string", "maxLength": 32}},
            "required": ["zone"],
        },
    },
}


@pytest.mark.parametrize("choice", ["named", "required"])
def test_a_tool_call_comes_back_with_json_arguments(served: Served, choice: str) -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    tool_choice = named if choice == "named" else "required"
    reply = served.client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the weather in Paris, in celsius?"}],
        tools=[WEATHER, TIME],  # type: ignore[list-item]
        tool_choice=tool_choice,  # type: ignore[arg-type]
        max_tokens=80,
        seed=5,
    )
    choice0 = reply.choices[0]
    assert choice0.finish_reason == "tool_calls"
    calls = choice0.message.tool_calls
    assert calls is not None and len(calls) == 1 and calls[0].id.startswith("call_")
    fn = calls[0].function  # type: ignore[union-attr]
    tools = {t["function"]["name"]: t["function"] for t in (WEATHER, TIME)}  # type: ignore[index]
    if choice == "named":
        assert fn.name == "get_weather"
    jsonschema.validate(json.loads(fn.arguments), tools[fn.name]["parameters"])

    # The call and its result go back in, and the model answers in words.
    follow = served.client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "What is the weather in Paris, in celsius?"},
            {"role": "assistant", "tool_calls": [calls[0].model_dump()]},  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": calls[0].id, "content": '{"sky": "sunny", "c": 21}'},
        ],
        tools=[WEATHER, TIME],  # type: ignore[list-item]
        tool_choice="none",
        max_tokens=30,
        seed=5,
    )
    assert follow.choices[0].message.content


def test_a_streamed_tool_call_arrives_whole(served: Served) -> None:
    chunks = list(
        served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Time in Tokyo?"}],
            tools=[TIME],  # type: ignore[list-item]
            tool_choice={"type": "function", "function": {"name": "get_time"}},
            max_tokens=60,
            seed=2,
            stream=True,
        )
    )
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert len(calls) == 1 and calls[0].function is not None
    assert calls[0].function.name == "get_time"
    assert "zone" in json.loads(calls[0].function.arguments or "")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
