"""The one model owner: requests load the model they name through the Workbench, a switch
waits for the requests in flight, an idle model the server loaded is unloaded, one the
person loaded is left alone, and a model that would not fit says so."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from app.config import Paths
from app.server.options import ServerOptions
from app.server.runner import LocalServer
from app.workbench import Workbench
from tests.server.conftest import MODEL

GEMMA = "gemma-3-270m-q4_k_m"


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Workbench]:
    wb = Workbench.open(Paths.under(tmp_path / "carrel"))
    yield wb
    wb.close()


def _until(condition: object, timeout: float = 60.0) -> bool:
    """Poll `condition` (a callable) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _client(server: LocalServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=600)


def test_models_load_on_demand_switch_and_unload_when_idle(bare: Workbench) -> None:
    server = LocalServer(bare, ServerOptions(port=0, idle_unload_s=1.0)).start()
    try:
        with _client(server) as client:
            assert bare.loaded_model is None
            say = [{"role": "user", "content": "Hi"}]
            client.chat.completions.create(model=MODEL, messages=say, max_tokens=2)
            assert bare.loaded_model is not None and bare.loaded_model.name == MODEL
            listed = {m.id: (m.model_extra or {})["loaded"] for m in client.models.list().data}
            assert listed[MODEL] and not listed[GEMMA]

            # A switch while a reply streams waits for it; both are answered.
            answers: list[str] = []
            stream = client.chat.completions.create(
                model=MODEL, messages=say, max_tokens=12, stream=True
            )
            first = next(iter(stream))
            other = threading.Thread(
                target=lambda: answers.append(
                    client.chat.completions.create(model=GEMMA, messages=say, max_tokens=2).model
                )
            )
            other.start()
            rest = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert first.model == MODEL and rest
            other.join()
            assert answers == [GEMMA]
            assert bare.loaded_model is not None and bare.loaded_model.name == GEMMA
        assert _until(lambda: bare.loaded_model is None), "the idle model was not unloaded"
    finally:
        server.stop()


def test_a_model_the_person_loaded_is_not_unloaded(bare: Workbench) -> None:
    bare.load_model(MODEL)
    server = LocalServer(bare, ServerOptions(port=0, idle_unload_s=0.2)).start()
    try:
        with _client(server) as client:
            reply = client.chat.completions.create(
                model="default", messages=[{"role": "user", "content": "Hi"}], max_tokens=2
            )
        assert reply.model == MODEL
        time.sleep(0.5)  # past the idle time: nothing to wait for, the model must stay
        assert bare.loaded_model is not None
    finally:
        server.stop()


def test_a_model_that_would_not_fit_says_so(
    bare: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This machine has 24 GiB; a machine with 64 MiB free is stood in for by the free-memory
    # reading the fit check uses (the check and the refusal are the real ones).
    monkeypatch.setattr("app.engine.loading.available_ram", lambda: 64 << 20)
    server = LocalServer(bare, ServerOptions(port=0)).start()
    try:
        with _client(server) as client, pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=2
            )
        assert refused.value.status_code == 503
        assert "needs about" in refused.value.message and "free" in refused.value.message
        assert bare.loaded_model is None
    finally:
        server.stop()
