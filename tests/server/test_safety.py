"""Safe by default: the token off loopback (and whenever one is set), bounded bodies, a
Host check, JSON-only posts, CORS only for listed origins, and nothing remote: a request
for a remote model is refused with the refusal in the ledger, and nothing leaves."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from app.privacy.policy import EndpointKind
from app.server.options import ServerOptions, ServerSetupError
from app.server.runner import LocalServer
from app.server.service import NOBODY_TO_ASK
from tests.server.conftest import MODEL, Served

TOKEN = "carrel-test-token-9f3k"


@pytest.fixture
def remote_reachable(served: Served) -> Iterator[LocalServer]:
    """The same Workbench served on every address (0.0.0.0), so with a token."""
    server = LocalServer(served.wb, ServerOptions(host="0.0.0.0", port=0, token=TOKEN)).start()
    yield server
    server.stop()


def test_off_loopback_needs_a_token(served: Served) -> None:
    with pytest.raises(ServerSetupError, match="needs a token"):
        LocalServer(served.wb, ServerOptions(host="0.0.0.0", port=0))


def test_without_the_token_a_request_gets_401(remote_reachable: LocalServer) -> None:
    url = f"http://127.0.0.1:{remote_reachable.port}/v1"
    wrong = openai.OpenAI(base_url=url, api_key="wrong-token", max_retries=0)
    with wrong, pytest.raises(openai.AuthenticationError, match="a wrong token"):
        wrong.models.list()
    bare = httpx.get(f"{url}/models")
    assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
    assert "no token" in bare.json()["error"]["message"]
    with openai.OpenAI(base_url=url, api_key=TOKEN, max_retries=0) as good:
        assert MODEL in [m.id for m in good.models.list().data]


def test_bodies_are_bounded(served: Served) -> None:
    url = served.server.url
    big = b'{"model": "x", "messages": [{"role": "user", "content": "' + b"a" * (2 << 20) + b'"}]}'
    declared = httpx.post(
        f"{url}/chat/completions", content=big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "body_too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"a" * 65536

    streamed = httpx.post(
        f"{url}/embeddings", content=chunked(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    with pytest.raises(openai.APIStatusError) as too_many:
        served.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "a" * (2 << 20)}]
        )
    assert too_many.value.status_code == 413


def test_only_json_from_this_machine(served: Served) -> None:
    url = served.server.url
    form = httpx.post(
        f"{url}/chat/completions", content=b"x=1", headers={"content-type": "text/plain"}
    )
    assert form.status_code == 400 and "JSON" in form.json()["error"]["message"]
    rebound = httpx.get(f"{url}/models", headers={"host": "evil.example:80"})
    assert rebound.status_code == 403
    no_cors = httpx.options(
        f"{url}/models",
        headers={"origin": "https://site.example", "access-control-request-method": "GET"},
    )
    assert "access-control-allow-origin" not in no_cors.headers
    unknown = httpx.get(f"{url}/nothing")
    assert unknown.status_code == 404 and "error" in unknown.json()


def test_cors_answers_listed_origins_only(served: Served) -> None:
    options = ServerOptions(port=0, cors_origins=("https://notebook.example",))
    server = LocalServer(served.wb, options).start()
    try:
        url = f"http://127.0.0.1:{server.port}/v1/models"
        ok = httpx.get(url, headers={"origin": "https://notebook.example"})
        assert ok.headers["access-control-allow-origin"] == "https://notebook.example"
        other = httpx.get(url, headers={"origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        server.stop()


def test_a_remote_model_is_refused_and_the_refusal_is_in_the_ledger(served: Served) -> None:
    privacy = served.wb.privacy
    privacy.add_endpoint(
        "cloud", "https://api.cloud.example/v1", "big-model", EndpointKind.THIRD_PARTY
    )
    privacy.set_enabled("cloud", True)
    try:
        with pytest.raises(openai.PermissionDeniedError, match="never sends anything"):
            served.client.chat.completions.create(
                model="remote:cloud", messages=[{"role": "user", "content": "hi"}]
            )
        local = served.client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=4,
            extra_body={"route": "remote-first"},
        )
        assert local.model == MODEL
        rows = [e for e in privacy.ledger.entries() if e.endpoint == "cloud"]
        assert len(rows) == 2
        assert all(
            e.outcome == "refused" and e.bytes == 0 and e.reason == NOBODY_TO_ASK for e in rows
        )
        assert {e.origin for e in rows} == {"server"}
    finally:
        privacy.remove_endpoint("cloud")


def test_past_the_queue_limit_a_request_gets_429(served: Served) -> None:
    server = LocalServer(served.wb, ServerOptions(port=0, max_pending=1)).start()
    try:
        url = f"http://127.0.0.1:{server.port}/v1"
        with openai.OpenAI(base_url=url, api_key="x", max_retries=0) as client:
            say = [{"role": "user", "content": "Tell me a long story."}]
            stream = client.chat.completions.create(
                model=MODEL,
                messages=say,  # type: ignore[arg-type]
                max_tokens=64,
                stream=True,
            )
            next(iter(stream))  # the first request holds the model while it streams
            with pytest.raises(openai.RateLimitError, match="already waiting"):
                client.chat.completions.create(model=MODEL, messages=say, max_tokens=2)  # type: ignore[arg-type]
            stream.close()
    finally:
        server.stop()
