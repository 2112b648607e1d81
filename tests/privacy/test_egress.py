"""The egress gate against a real OpenAI-compatible server (llama-cpp-python's own) on
loopback, with a recording proxy in front of it that keeps what actually arrived."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest

from app.citation import Citation
from app.engine.backend import Done, Generation, GenerationParams, Token
from app.engine.remote import RemoteBackend
from app.netguard import EgressRefusedError
from app.privacy.errors import ConsentRefusedError, OnDeviceOnlyError, RemoteDisabledError
from app.privacy.gate import Consent, EgressGate
from app.privacy.ledger import Ledger
from app.privacy.policy import PrivacyPolicy
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.conftest import GUARD
from tests.support.consent import Answers, endpoint_for, gate_with
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy, free_port

pytestmark = pytest.mark.slow

PARAMS = GenerationParams(temperature=0.0, max_tokens=24, seed=1)
QUESTION = [
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Say hello to ada@example.org."),
]


def run(gen: Generation) -> tuple[str, Done]:
    tokens = []
    for event in gen:
        if isinstance(event, Token):
            tokens.append(event.text)
        else:
            return "".join(tokens), event
    raise AssertionError("no Done")


def test_refused_consent_sends_nothing(store: Store, proxy: RecordingProxy) -> None:
    answers = Answers(Consent.REFUSE)
    backend = RemoteBackend(endpoint_for(proxy.base_url), gate_with(store, answers), API_KEY)
    with pytest.raises(ConsentRefusedError, match="nothing left the device"):
        run(backend.stream(QUESTION, PARAMS, conversation_id=None))
    backend.close()
    assert proxy.received == []
    [entry] = Ledger(store).entries()
    assert (entry.outcome, entry.consent, entry.bytes, entry.sha256) == (
        "refused",
        "refused",
        0,
        "",
    )
    # The person saw the request, redacted, before deciding.
    [preview] = answers.previews
    assert "[EMAIL_1]" in preview.render() and "ada@example.org" in preview.render()
    assert all("ada@example.org" not in m.content for m in preview.messages)


def test_switched_off_endpoint_sends_nothing(store: Store, proxy: RecordingProxy) -> None:
    answers = Answers(Consent.ONCE)
    endpoint = endpoint_for(proxy.base_url, enabled=False)
    backend = RemoteBackend(endpoint, gate_with(store, answers), API_KEY)
    with pytest.raises(RemoteDisabledError, match="carrel remote enable team"):
        run(backend.stream(QUESTION, PARAMS))
    assert proxy.received == [] and answers.previews == []
    assert [e.outcome for e in Ledger(store).entries()] == ["refused"]


def test_approved_request_is_ledgered_with_the_hash_of_what_arrived(
    store: Store, proxy: RecordingProxy
) -> None:
    answers = Answers(Consent.ONCE)
    conv = store.create_conversation("t").id
    backend = RemoteBackend(endpoint_for(proxy.base_url), gate_with(store, answers), API_KEY)
    text, done = run(backend.stream(QUESTION, PARAMS, conversation_id=conv))
    backend.close()
    assert text and done.text == text and done.stats.model == "smollm2"
    [chat] = [r for r in proxy.received if r.path.endswith("/chat/completions")]
    [entry] = Ledger(store).entries()
    assert entry.outcome == "sent" and entry.consent == "once"
    assert entry.sha256 == hashlib.sha256(chat.body).hexdigest()
    assert entry.bytes == len(chat.body)
    assert (entry.host, entry.kind, entry.conversation_id, entry.redactions) == (
        "127.0.0.1",
        "self-hosted",
        conv,
        1,
    )
    sent = json.loads(chat.body)
    assert "ada@example.org" not in chat.body.decode()
    assert sent["messages"][1]["content"] == "Say hello to [EMAIL_1]."
    # The key went as a bearer token and nothing identifying the machine went with it.
    assert chat.headers["authorization"] == f"Bearer {API_KEY}"
    assert not [h for h in chat.headers if h.lower().startswith("x-stainless")]


def test_approve_for_the_conversation_asks_once(store: Store, proxy: RecordingProxy) -> None:
    answers = Answers(Consent.CONVERSATION)
    conv = store.create_conversation("t").id
    gate = gate_with(store, answers)
    backend = RemoteBackend(endpoint_for(proxy.base_url), gate, API_KEY)
    run(backend.stream(QUESTION, PARAMS, conversation_id=conv))
    run(backend.stream(QUESTION, PARAMS, conversation_id=conv))
    gate.forget_conversation(conv)
    with pytest.raises(ConsentRefusedError):
        run(backend.stream(QUESTION, PARAMS, conversation_id=conv))
    backend.close()
    assert len(answers.previews) == 2
    assert [e.consent for e in Ledger(store).entries()] == ["conversation"] * 2 + ["refused"]


def test_placeholders_in_the_answer_are_restored_locally(
    store: Store, proxy: RecordingProxy
) -> None:
    # A few-shot "repeat after me" that SmolLM2 follows at temperature 0.
    messages = [
        ChatMessage("user", "Repeat exactly: the cat sat"),
        ChatMessage("assistant", "the cat sat"),
        ChatMessage("user", "Repeat exactly: blue sky [X_4]"),
        ChatMessage("assistant", "blue sky [X_4]"),
        ChatMessage("user", "Repeat exactly: write to bob@example.com today"),
    ]
    backend = RemoteBackend(
        endpoint_for(proxy.base_url), gate_with(store, Answers(Consent.ONCE)), API_KEY
    )
    text, done = run(backend.stream(messages, PARAMS))
    backend.close()
    [chat] = [r for r in proxy.received if r.path.endswith("/chat/completions")]
    assert b"bob@example.com" not in chat.body and b"[EMAIL_1]" in chat.body
    assert "bob@example.com" in text and "bob@example.com" in done.text
    assert "[EMAIL_1]" not in done.text


def test_on_device_only_passages_never_leave(store: Store, proxy: RecordingProxy) -> None:
    policy = PrivacyPolicy(on_device_only=["contracts"])
    answers = Answers(Consent.ONCE)
    backend = RemoteBackend(
        endpoint_for(proxy.base_url), gate_with(store, answers, policy), API_KEY
    )
    passages = [
        Citation("/notes/lease.md", text="The lease ends in May.", collection="notes"),
        Citation("/c/7.md", text="Clause 7: the penalty is 40 000 EUR.", collection="contracts"),
    ]
    with pytest.raises(OnDeviceOnlyError, match="contracts") as info:
        run(backend.stream(Prompt.asking(QUESTION, passages), PARAMS))
    assert info.value.run_locally is False
    assert proxy.received == [] and answers.previews == []
    [entry] = Ledger(store).entries()
    assert entry.outcome == "refused" and "contracts" in entry.reason
    # Passages from other collections go, shown in the preview as passages.
    _text, _ = run(backend.stream(Prompt.asking(QUESTION, passages[:1]), PARAMS))
    backend.close()
    assert "passage 1 · notes" in [p.label for p in answers.previews[0].parts]
    [chat] = [r for r in proxy.received if r.path.endswith("/chat/completions")]
    assert b"The lease ends in May." in chat.body


def test_the_guard_refuses_an_off_device_address_before_connecting(store: Store) -> None:
    # 127.0.0.2 is declared off-device for this test; a listener there proves that no
    # connection arrived, and the door the gate opens lets the approved request through.
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen()
    port = listener.getsockname()[1]
    GUARD.treat_as_off_device("127.0.0.2")
    before = len(GUARD.refused)
    try:
        ungated = EgressGate(PrivacyPolicy(), Ledger(store), Answers(Consent.ONCE))  # no door
        backend = RemoteBackend(endpoint_for(f"http://127.0.0.2:{port}/v1"), ungated, API_KEY)
        with pytest.raises(EgressRefusedError, match=r"127\.0\.0\.2"):
            run(backend.stream(QUESTION, PARAMS))
        backend.close()
        assert GUARD.refused[before:] == ["127.0.0.2"]
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
        [entry] = Ledger(store).entries()
        assert entry.outcome == "failed-unsent" and not entry.left_device
        assert entry.describe_outcome() == (
            "failed, nothing sent (refused by Carrel's network guard)"
        )
    finally:
        GUARD._off_device.discard("127.0.0.2")
        del GUARD.refused[before:]
        listener.close()


def test_a_stopped_server_is_a_remote_failure(store: Store) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there any more
    backend = RemoteBackend(endpoint_for(url), gate_with(store, Answers(Consent.ONCE)))
    from app.privacy.errors import RemoteFailedError

    with pytest.raises(RemoteFailedError, match="cannot connect"):
        run(backend.stream(QUESTION, PARAMS))
    backend.close()
    # The row was written before the attempt; it now says that nothing left.
    [entry] = Ledger(store).entries()
    assert entry.outcome == "failed-unsent" and entry.bytes > 0
    assert entry.describe_outcome().startswith("failed, nothing sent (cannot connect")


def test_cancel_stops_between_chunks(store: Store, proxy: RecordingProxy) -> None:
    backend = RemoteBackend(
        endpoint_for(proxy.base_url), gate_with(store, Answers(Consent.ONCE)), API_KEY
    )
    gen = backend.stream(QUESTION, GenerationParams(temperature=0.0, max_tokens=200, seed=1))
    gen.cancel()
    done = next(e for e in gen if isinstance(e, Done))
    backend.close()
    assert done.stats.stopped and done.stats.finish_reason == "stopped"
