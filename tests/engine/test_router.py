"""Routing between the on-device model and a real remote server, with fallbacks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.citation import Citation
from app.engine.backend import Done, GenerationParams, Token
from app.engine.llama import LlamaBackend, LoadOptions
from app.engine.remote import RemoteBackend
from app.engine.router import ON_DEVICE, Route, RoutedGeneration, Router
from app.errors import CarrelError, ContextExceededError
from app.library.registry import ModelRegistry
from app.privacy.errors import ConsentRefusedError, OnDeviceOnlyError
from app.privacy.gate import Consent
from app.privacy.ledger import Ledger
from app.privacy.policy import OnDeviceOnlyAction, PrivacyPolicy
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.support.consent import Answers, endpoint_for, gate_with
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy, free_port

pytestmark = pytest.mark.slow

PARAMS = GenerationParams(temperature=0.0, max_tokens=16, seed=1)
HELLO = [ChatMessage("user", "Say hello.")]


@pytest.fixture(scope="module")
def local(smollm_path: Path) -> Iterator[LlamaBackend]:
    info = ModelRegistry(smollm_path.parent).resolve(str(smollm_path))
    backend = LlamaBackend(info, LoadOptions(context_length=256, threads=2))
    yield backend
    backend.close()


def finish(gen: RoutedGeneration) -> tuple[str, Done]:
    text = ""
    for event in gen:
        if isinstance(event, Token):
            text += event.text
        else:
            return text, event
    raise AssertionError("no Done")


def remote_for(store: Store, url: str, answers: Answers, **kw: object) -> RemoteBackend:
    return RemoteBackend(endpoint_for(url), gate_with(store, answers, **kw), API_KEY)  # type: ignore[arg-type]


def test_local_only_never_asks_and_says_on_device(
    local: LlamaBackend, store: Store, proxy: RecordingProxy
) -> None:
    answers = Answers(Consent.ONCE)
    remote = remote_for(store, proxy.base_url, answers)
    gen = Router(local, remote, Route.LOCAL_ONLY).stream(Prompt(HELLO), PARAMS)
    text, _done = finish(gen)
    assert text and gen.answered_by is not None
    assert (gen.answered_by.badge, gen.answered_by.endpoint) == (ON_DEVICE, ON_DEVICE)
    assert answers.previews == [] and proxy.received == []
    with pytest.raises(CarrelError, match="on-device only"):
        Router(local, remote, Route.LOCAL_ONLY).stream(Prompt(HELLO), PARAMS, ask_remote=True)
    remote.close()


def test_local_context_exceeded_falls_back_to_remote(
    local: LlamaBackend, store: Store, proxy: RecordingProxy
) -> None:
    long = [ChatMessage("user", "Summarise: " + "the quick brown fox jumps. " * 80)]
    with pytest.raises(ContextExceededError):
        finish(Router(local, None, Route.LOCAL_ONLY).stream(Prompt(long), PARAMS))
    answers = Answers(Consent.ONCE)
    remote = remote_for(store, proxy.base_url, answers)
    gen = Router(local, remote, Route.LOCAL_FIRST).stream(
        Prompt(long), PARAMS, conversation_id=None
    )
    text, _done = finish(gen)
    remote.close()
    assert text and gen.answered_by is not None
    assert gen.answered_by.badge == "self-hosted"
    assert gen.answered_by.endpoint == proxy.base_url
    assert "context" in gen.answered_by.fallback_reason
    assert len(answers.previews) == 1 and len(Ledger(store).entries()) == 1


def test_no_local_model_falls_back_and_ask_remote_goes_straight_there(
    local: LlamaBackend, store: Store, proxy: RecordingProxy
) -> None:
    answers = Answers(Consent.ONCE, Consent.ONCE)
    remote = remote_for(store, proxy.base_url, answers)
    gen = Router(None, remote, Route.LOCAL_FIRST).stream(Prompt(HELLO), PARAMS)
    finish(gen)
    assert gen.answered_by is not None and "No model is loaded" in gen.answered_by.fallback_reason
    gen = Router(local, remote, Route.LOCAL_FIRST).stream(Prompt(HELLO), PARAMS, ask_remote=True)
    finish(gen)
    remote.close()
    assert gen.answered_by is not None and gen.answered_by.badge == "self-hosted"
    assert gen.answered_by.fallback_reason == ""


def test_remote_down_falls_back_to_local(local: LlamaBackend, store: Store) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"  # the server is stopped: nothing listens
    remote = remote_for(store, down, Answers(Consent.ONCE))
    gen = Router(local, remote, Route.REMOTE_FIRST).stream(Prompt(HELLO), PARAMS)
    text, done = finish(gen)
    remote.close()
    assert text and gen.answered_by is not None and gen.answered_by.badge == ON_DEVICE
    assert "cannot connect" in gen.answered_by.fallback_reason
    assert done.stats.model == local.name


def test_remote_first_answers_remotely_and_refusal_answers_locally(
    local: LlamaBackend, store: Store, proxy: RecordingProxy
) -> None:
    remote = remote_for(store, proxy.base_url, Answers(Consent.ONCE, Consent.REFUSE))
    router = Router(local, remote, Route.REMOTE_FIRST)
    gen = router.stream(Prompt(HELLO), PARAMS)
    finish(gen)
    assert gen.answered_by is not None and gen.answered_by.badge == "self-hosted"
    gen = router.stream(Prompt(HELLO), PARAMS)
    finish(gen)
    remote.close()
    assert gen.answered_by is not None and gen.answered_by.badge == ON_DEVICE
    assert [e.outcome for e in Ledger(store).entries()] == ["sent", "refused"]


def test_on_device_only_by_policy_refuses_or_runs_locally(
    local: LlamaBackend, store: Store, proxy: RecordingProxy
) -> None:
    passage = Citation("/contracts/lease.md", text="Clause 7: the penalty is 40 000 EUR.")
    asked = Prompt.asking(HELLO, [replace(passage, collection="contracts")])
    policy = PrivacyPolicy(on_device_only=["contracts"])
    remote = remote_for(store, proxy.base_url, Answers(Consent.ONCE), policy=policy)
    router = Router(local, remote, Route.REMOTE_FIRST)
    with pytest.raises(OnDeviceOnlyError):
        finish(router.stream(asked, PARAMS))
    policy.on_device_only_action = OnDeviceOnlyAction.LOCAL
    gen = router.stream(asked, PARAMS)
    finish(gen)
    remote.close()
    assert gen.answered_by is not None and gen.answered_by.badge == ON_DEVICE
    assert proxy.received == []


def test_local_first_fallback_refused_reports_the_refusal(
    store: Store, proxy: RecordingProxy
) -> None:
    remote = remote_for(store, proxy.base_url, Answers(Consent.REFUSE))
    with pytest.raises(ConsentRefusedError):
        finish(Router(None, remote, Route.LOCAL_FIRST).stream(Prompt(HELLO), PARAMS))
    remote.close()
    assert proxy.received == []


def test_cancel_reaches_the_backend_answering(local: LlamaBackend) -> None:
    gen = Router(local, None, Route.LOCAL_ONLY).stream(
        Prompt(HELLO), GenerationParams(temperature=0.0, max_tokens=200, seed=1)
    )
    first = next(gen)
    gen.cancel()
    done = first if isinstance(first, Done) else next(e for e in gen if isinstance(e, Done))
    assert done.stats.stopped or done.stats.completion_tokens < 200
