"""Carrel's server as another Carrel's remote endpoint (a team's server): the reply comes
through the egress gate, and its token counts are the server's own, not estimates."""

from __future__ import annotations

from pathlib import Path

from app.engine.backend import Done, GenerationParams
from app.engine.remote import RemoteBackend
from app.privacy.gate import Consent
from app.privacy.ledger import Ledger
from app.privacy.policy import EndpointKind, RemoteEndpoint
from app.prompt import ChatMessage
from app.store import Store
from tests.server.conftest import MODEL, Served
from tests.support.consent import Answers, gate_with


def test_the_token_counts_are_the_servers(served: Served, tmp_path: Path) -> None:
    store = Store(tmp_path / "asker.sqlite3")
    endpoint = RemoteEndpoint("team", served.server.url, MODEL, EndpointKind.SELF_HOSTED, True)
    backend = RemoteBackend(endpoint, gate_with(store, Answers(Consent.ONCE)), "unused")
    question = [ChatMessage("user", "Name one river.")]
    try:
        events = list(backend.stream(question, GenerationParams(max_tokens=8, seed=3)))
    finally:
        backend.close()
    done = events[-1]
    assert isinstance(done, Done)
    # Asked the same way, the server's own reply reports the same prompt.
    same = served.client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name one river."}], max_tokens=8, seed=3
    )
    assert same.usage is not None
    assert done.stats.prompt_tokens == same.usage.prompt_tokens > 0
    assert done.stats.completion_tokens == same.usage.completion_tokens
    [entry] = Ledger(store).entries()
    assert entry.outcome == "sent"
    store.close()
