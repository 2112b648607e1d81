"""`POST /v1/completions` through the official `openai` client: a prompt continued as it
is (no chat template), whole and streamed, a list of prompts, sampling, stop strings,
OpenAI's default length, and OpenAI-shaped refusals of what Carrel does not do."""

from __future__ import annotations

import openai
import pytest

from tests.server.conftest import MODEL, Served

PROMPT = "The days of the week are Monday, Tuesday,"


def test_a_completion_whole_and_streamed_is_the_same_for_the_same_seed(served: Served) -> None:
    kwargs = {"model": MODEL, "prompt": PROMPT, "max_tokens": 12, "seed": 3, "temperature": 0.0}
    whole = served.client.completions.create(**kwargs)  # type: ignore[call-overload]
    assert whole.object == "text_completion" and whole.model == MODEL
    [choice] = whole.choices
    assert choice.text and choice.index == 0 and choice.finish_reason in ("stop", "length")
    # Continued as text, not answered as a chat turn: the week goes on.
    assert "Wednesday" in choice.text
    assert whole.usage is not None and 0 < whole.usage.completion_tokens <= 12
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    chunks = list(
        served.client.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )  # type: ignore[call-overload]
    )
    pieces = [c.choices[0].text for c in chunks if c.choices]
    assert "".join(pieces) == choice.text and len([p for p in pieces if p]) > 1
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == choice.finish_reason and not any(finishes[:-1])
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_a_list_of_prompts_gives_one_choice_each(served: Served) -> None:
    prompts = [PROMPT, "One, two, three,"]
    out = served.client.completions.create(
        model=MODEL, prompt=prompts, max_tokens=6, seed=1, temperature=0.0
    )
    assert [c.index for c in out.choices] == [0, 1]
    alone = served.client.completions.create(
        model=MODEL, prompt=prompts[1], max_tokens=6, seed=1, temperature=0.0
    )
    assert out.choices[1].text == alone.choices[0].text
    streamed = served.client.completions.create(
        model=MODEL, prompt=prompts, max_tokens=6, seed=1, temperature=0.0, stream=True
    )
    texts = ["", ""]
    for chunk in streamed:
        for c in chunk.choices:
            texts[c.index] += c.text
    assert texts == [c.text for c in out.choices]


def test_max_tokens_stop_and_the_default_length(served: Served) -> None:
    short = served.client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=2, seed=1, temperature=0.0
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens <= 2
    default = served.client.completions.create(model=MODEL, prompt=PROMPT, seed=1)
    assert default.usage is not None and default.usage.completion_tokens <= 16  # OpenAI's 16
    cut = served.client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=12, seed=3, temperature=0.0, stop=["Thursday"]
    )
    assert "Thursday" not in cut.choices[0].text and cut.choices[0].finish_reason == "stop"
    assert "Wednesday" in cut.choices[0].text
    hot = [
        served.client.completions.create(
            model=MODEL, prompt="My favourite", max_tokens=8, seed=seed, temperature=1.5, top_p=1.0
        )
        .choices[0]
        .text
        for seed in (1, 2, 1)
    ]
    assert hot[0] == hot[2] and hot[0] != hot[1]  # the seed decides


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"echo": True}, "echo"),
        ({"n": 2}, "n"),
        ({"best_of": 3}, "best_of"),
        ({"logprobs": 2}, "logprobs"),
        ({"suffix": "end"}, "suffix"),
        ({"temperature": 3.0}, "temperature"),
        ({"max_tokens": 10**6}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ],
)
def test_what_carrel_does_not_do_is_a_400(
    served: Served, extra: dict[str, object], param: str
) -> None:
    body = {"model": MODEL, "prompt": PROMPT, **extra}
    with pytest.raises(openai.BadRequestError) as refused:
        served.client.completions.create(**body)  # type: ignore[call-overload]
    error = refused.value.body
    assert isinstance(error, dict) and error["param"] == param
    assert error["type"] == "invalid_request_error" and error["message"]


def test_bad_prompts_and_unknown_models(served: Served) -> None:
    for prompt in ([1, 2, 3], [], None):
        with pytest.raises(openai.BadRequestError, match="prompt"):
            served.client.completions.create(model=MODEL, prompt=prompt)  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError) as missing:
        served.client.completions.create(model="no-such-model", prompt=PROMPT, max_tokens=2)
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.PermissionDeniedError, match="never sends anything"):
        served.client.completions.create(model="remote:cloud", prompt=PROMPT, max_tokens=2)


def test_a_prompt_longer_than_the_context_says_so(served: Served) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        served.client.completions.create(model=MODEL, prompt="word " * 9000, max_tokens=2)
    assert refused.value.code == "context_length_exceeded"
