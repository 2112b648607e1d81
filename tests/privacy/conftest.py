"""Fixtures of the privacy tests: a real OpenAI-compatible server and a recording proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.privacy.gate import Consent, EgressGate, Preview
from app.privacy.ledger import Ledger
from app.privacy.policy import EndpointKind, PrivacyPolicy, RemoteEndpoint
from app.store import Store
from tests.privacy.servers import LlamaServer, RecordingProxy

API_KEY = "sk-carrel-test-7Q9xZ-SECRET-4f2a"


@pytest.fixture(scope="session")
def llama_server(
    smollm_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    server = LlamaServer(smollm_path, API_KEY, log).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(llama_server.port).start()
    yield p
    p.stop()


@pytest.fixture
def store(carrel_home: Path) -> Iterator[Store]:
    s = Store(carrel_home / "data" / "carrel.sqlite3")
    yield s
    s.close()


class Answers:
    """A consent callback that answers from a script and keeps every preview it saw."""

    def __init__(self, *answers: Consent) -> None:
        self.answers = list(answers)
        self.previews: list[Preview] = []

    def __call__(self, preview: Preview) -> Consent:
        self.previews.append(preview)
        return self.answers.pop(0) if self.answers else Consent.REFUSE


def endpoint_for(url: str, *, enabled: bool = True) -> RemoteEndpoint:
    return RemoteEndpoint("team", url, "smollm2", EndpointKind.SELF_HOSTED, enabled)


def gate_with(store: Store, answers: Answers, policy: PrivacyPolicy | None = None) -> EgressGate:
    return EgressGate(policy or PrivacyPolicy(), Ledger(store), answers)
