"""The server and the person share one model: a request reloads a model loaded with other
options than its saved ones (never holding two copies), and a request that switches the
model waits for the person's reply in progress instead of stopping it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from app.config import Paths
from app.engine.backend import Done, Token
from app.server.options import ServerOptions
from app.server.runner import LocalServer
from app.workbench import Workbench
from tests.server.conftest import MODEL

GEMMA = "gemma-3-270m-q4_k_m"
SAY = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Workbench]:
    wb = Workbench.open(Paths.under(tmp_path / "carrel"))
    yield wb
    wb.close()


def _owners() -> list[str]:
    """The model owner threads alive: one per model held in memory."""
    return [t.name for t in threading.enumerate() if t.name.startswith("llama:")]


def test_a_model_loaded_with_other_options_is_reloaded_with_its_saved_ones(
    bare: Workbench,
) -> None:
    saved = dataclasses.replace(bare.load_options(MODEL), context_length=1024)
    bare.library.save_load_options(MODEL, saved)
    bare.load_model(MODEL, overrides={"context_length": 512})  # as a conversation might
    first = bare.backend
    assert first is not None and first.n_ctx == 512 and _owners() == [f"llama:{MODEL}"]
    server = LocalServer(bare, ServerOptions(port=0, idle_unload_s=0.2)).start()
    try:
        with openai.OpenAI(base_url=server.url, api_key="x", max_retries=0) as client:
            reply = client.chat.completions.create(model=MODEL, messages=SAY, max_tokens=2)  # type: ignore[arg-type]
            assert reply.model == MODEL
            now = bare.backend
            assert now is not None and now is not first
            assert now.n_ctx == 1024 and now.options.context_length == 1024
            assert _owners() == [f"llama:{MODEL}"], "the old copy was closed first"
            # Loaded as saved now: the next request uses it as it is.
            client.chat.completions.create(model=MODEL, messages=SAY, max_tokens=2)  # type: ignore[arg-type]
            assert bare.backend is now
        # The person's model, reloaded, is still theirs: the server does not unload it.
        threading.Event().wait(0.6)
        assert bare.backend is now
    finally:
        server.stop()


def test_a_switch_waits_for_the_persons_reply_instead_of_stopping_it(bare: Workbench) -> None:
    bare.load_model(MODEL)
    conversation = bare.new_conversation()
    server = LocalServer(bare, ServerOptions(port=0)).start()
    answered: list[str] = []
    try:
        with openai.OpenAI(base_url=server.url, api_key="x", max_retries=0) as client:
            reply = bare.reply(conversation.id, "Tell me a long story.", {"max_tokens": 48})
            events = iter(reply)
            assert isinstance(next(events), Token)  # the person's reply is being written
            other = threading.Thread(
                target=lambda: answered.append(
                    client.chat.completions.create(model=GEMMA, messages=SAY, max_tokens=2).model  # type: ignore[arg-type]
                )
            )
            other.start()
            done = [e for e in events if isinstance(e, Done)][-1]
            other.join(timeout=300)
        assert not done.stats.stopped and done.stats.finish_reason in ("length", "stop")
        assert answered == [GEMMA]
        assert bare.loaded_model is not None and bare.loaded_model.name == GEMMA
        stored = bare.store.messages(conversation.id)[-1]
        assert stored.role == "assistant" and not stored.stopped and stored.text == done.text
    finally:
        server.stop()
