"""Chat through the official `openai` client: listed models, whole and streamed replies,
sampling parameters, stop strings, OpenAI-shaped errors, 20 clients at once."""

from __future__ import annotations

import concurrent.futures

import openai
import pytest

from tests.server.conftest import MODEL, Served

HELLO = [{"role": "user", "content": "Name three colours."}]


def test_models_lists_the_installed_models(served: Served) -> None:
    ids = [m.id for m in served.client.models.list().data]
    assert MODEL in ids
    assert set(ids) == {m.name for m in served.wb.models()}


def test_a_reply_whole_and_streamed_is_the_same_for_the_same_seed(served: Served) -> None:
    kwargs = {"model": MODEL, "messages": HELLO, "max_tokens": 24, "seed": 7, "temperature": 0.0}
    whole = served.client.chat.completions.create(**kwargs)  # type: ignore[call-overload]
    text = whole.choices[0].message.content
    assert text and whole.model == MODEL
    assert whole.choices[0].finish_reason in ("stop", "length")
    assert whole.usage is not None and 0 < whole.usage.completion_tokens <= 24
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    chunks = list(
        served.client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )  # type: ignore[call-overload]
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length") and not any(finishes[:-1])


def test_max_tokens_and_stop_end_the_reply(served: Served) -> None:
    short = served.client.chat.completions.create(
        model=MODEL, messages=HELLO, max_tokens=3, seed=1, temperature=0.0
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens <= 3
    full = (
        served.client.chat.completions.create(
            model=MODEL, messages=HELLO, max_tokens=24, seed=1, temperature=0.0
        )
        .choices[0]
        .message.content
    )
    assert full and " " in full.strip()
    word = full.strip().split()[1]
    cut = (
        served.client.chat.completions.create(
            model=MODEL, messages=HELLO, max_tokens=24, seed=1, temperature=0.0, stop=[word]
        )
        .choices[0]
        .message.content
    )
    assert cut is not None and word not in cut and full.startswith(cut)


def test_errors_come_in_openai_shape(served: Served) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        served.client.chat.completions.create(model="no-such-model", messages=HELLO)
    assert "No model called 'no-such-model'" in missing.value.message
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="n=1"):
        served.client.chat.completions.create(model=MODEL, messages=HELLO, n=2)
    with pytest.raises(openai.BadRequestError, match="at most 4096"):
        served.client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=100_000)
    with pytest.raises(openai.BadRequestError, match="temperature"):
        served.client.chat.completions.create(model=MODEL, messages=HELLO, temperature=5)
    with pytest.raises(openai.BadRequestError, match="messages"):
        served.client.chat.completions.create(model=MODEL, messages=[])


def test_twenty_clients_at_once_are_all_answered(served: Served) -> None:
    before = len(served.server.requests.entries())

    def ask(i: int) -> str:
        reply = served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Say the number {i}."}],
            max_tokens=6,
            seed=i,
        )
        return reply.choices[0].message.content or ""

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(20)))
    assert all(answers)
    entries = served.server.requests.entries()[before:]
    assert len(entries) == 20 and {e.status for e in entries} == {200}
    assert all(e.completion_tokens > 0 for e in entries)
