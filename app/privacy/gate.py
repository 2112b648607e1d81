"""`EgressGate`: the only door off the machine.

Before a request leaves, the gate checks that the endpoint is switched on and that no
passage comes from an on-device-only collection, redacts what the request carries, shows
the person a `Preview` of exactly that, and asks for consent (once, for this
conversation, or refuse). The remote backend then calls `record_sent` with the exact
bytes it is about to send, which writes the ledger row before anything leaves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.engine.backend import ChatMessage
from app.netguard import NetGuard
from app.privacy.errors import ConsentRefusedError, OnDeviceOnlyError, RemoteDisabledError
from app.privacy.ledger import Ledger, LedgerEntry, Outcome
from app.privacy.policy import OnDeviceOnlyAction, PrivacyPolicy, RemoteEndpoint
from app.privacy.redact import Redaction, RedactionMap, Redactor

PASSAGES_HEADER = "Answer using these passages from the person's documents:"


class PassageLike(Protocol):
    """What the gate needs of a retrieved passage: its text and its collection."""

    @property
    def text(self) -> str: ...

    @property
    def collection(self) -> str: ...


@dataclass(frozen=True)
class Passage:
    """A retrieved passage (the RAG package's own type fits `PassageLike` as well)."""

    text: str
    collection: str
    source: str = ""


def compose(
    messages: Sequence[ChatMessage], passages: Sequence[PassageLike] = ()
) -> list[ChatMessage]:
    """The messages a model sees: the passages go into the system message."""
    out = list(messages)
    if not passages:
        return out
    block = PASSAGES_HEADER + "\n" + "\n".join(f"[{i}] {p.text}" for i, p in enumerate(passages, 1))
    if out and out[0].role == "system":
        out[0] = ChatMessage("system", (out[0].content + "\n\n" + block).strip())
    else:
        out.insert(0, ChatMessage("system", block))
    return out


class Consent(StrEnum):
    """The person's answer to a preview."""

    ONCE = "once"
    CONVERSATION = "conversation"
    REFUSE = "refused"


@dataclass(frozen=True)
class Section:
    """One part of a preview: what it is ("system prompt", "passage 2 · contracts",
    "user") and its text exactly as it will be sent, placeholders included."""

    label: str
    text: str


@dataclass
class Preview:
    """Everything a remote request will carry, shown to the person before it leaves."""

    endpoint: RemoteEndpoint
    sections: list[Section]
    redactions: list[Redaction]
    messages: list[ChatMessage]
    conversation_id: int | None = None
    # What redaction does not look for ("names are not detected…"), said before consent.
    notices: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Bytes of the messages as JSON (the request adds a few parameters)."""
        return len(_messages_json(self.messages))

    def render(self) -> str:
        """A plain-text rendering for a terminal or a dialog; originals are shown only
        in the redaction table, which stays on this device."""
        e = self.endpoint
        lines = [
            f"To: {e.host} ({e.kind}) · model {e.model} · about {self.size:,} bytes",
            "",
        ]
        for s in self.sections:
            lines += [f"── {s.label} ──", s.text, ""]
        if self.redactions:
            lines.append("Redacted (kept on this device):")
            lines += [f"  {r.placeholder} ← {r.original}" for r in self.redactions]
        else:
            lines.append("Nothing was redacted.")
        lines += [f"Note: {n}" for n in self.notices]
        return "\n".join(lines)


ConsentCallback = Callable[[Preview], Consent]


@dataclass
class Clearance:
    """An approved request: the redacted messages and how to put the originals back."""

    endpoint: RemoteEndpoint
    messages: list[ChatMessage]
    mapping: RedactionMap
    consent: Consent
    conversation_id: int | None
    sent: list[LedgerEntry] = field(default_factory=list)


def _messages_json(messages: Sequence[ChatMessage]) -> bytes:
    data = [{"role": m.role, "content": m.content} for m in messages]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


class EgressGate:
    """Decides whether a request may leave, shows it, asks, and keeps the ledger."""

    def __init__(
        self,
        policy: PrivacyPolicy,
        ledger: Ledger,
        consent: ConsentCallback | None = None,
        guard: NetGuard | None = None,
    ) -> None:
        self.policy = policy
        self.ledger = ledger
        # Called on the worker thread; with no callback every request is refused.
        self.consent = consent
        self.guard = guard
        self._approved: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def forget_conversation(self, conversation_id: int) -> None:
        """Withdraw every "approve for this conversation" given in it."""
        with self._lock:
            self._approved = {a for a in self._approved if a[0] != conversation_id}

    def preview(
        self,
        endpoint: RemoteEndpoint,
        messages: Sequence[ChatMessage],
        passages: Sequence[PassageLike] = (),
        conversation_id: int | None = None,
    ) -> Preview:
        """Redact and lay out what the request would carry; asks nothing, sends nothing."""
        redactor = Redactor.for_policy(self.policy)
        return self._preview(
            endpoint, messages, passages, conversation_id, redactor, RedactionMap()
        )

    def clear(
        self,
        endpoint: RemoteEndpoint,
        messages: Sequence[ChatMessage],
        passages: Sequence[PassageLike] = (),
        conversation_id: int | None = None,
    ) -> Clearance:
        """Check, redact, show and ask; a refusal is written to the ledger and raised."""
        if not endpoint.enabled:
            self._refuse(endpoint, conversation_id, "policy", "endpoint switched off")
            raise RemoteDisabledError(endpoint.name)
        private = [x.collection for x in passages if x.collection in self.policy.on_device_only]
        if private:
            local = self.policy.on_device_only_action == OnDeviceOnlyAction.LOCAL
            reason = "on-device-only collection: " + ", ".join(sorted(set(private)))
            self._refuse(endpoint, conversation_id, "policy", reason)
            raise OnDeviceOnlyError(private, run_locally=local)
        redactor = Redactor.for_policy(self.policy)
        mapping = RedactionMap()
        preview = self._preview(endpoint, messages, passages, conversation_id, redactor, mapping)
        key = (conversation_id, endpoint.name) if conversation_id is not None else None
        with self._lock:
            standing = key is not None and key in self._approved
        if standing:
            answer = Consent.CONVERSATION
        else:
            answer = self.consent(preview) if self.consent is not None else Consent.REFUSE
        if answer == Consent.REFUSE:
            reason = "refused by the person" if self.consent else "nobody was asked"
            self._refuse(endpoint, conversation_id, "refused", reason)
            raise ConsentRefusedError(endpoint.host)
        if answer == Consent.CONVERSATION and key is not None:
            with self._lock:
                self._approved.add(key)
        return Clearance(endpoint, preview.messages, mapping, answer, conversation_id)

    def _preview(
        self,
        endpoint: RemoteEndpoint,
        messages: Sequence[ChatMessage],
        passages: Sequence[PassageLike],
        conversation_id: int | None,
        redactor: Redactor,
        mapping: RedactionMap,
    ) -> Preview:
        sections: list[Section] = []
        redacted: list[ChatMessage] = []
        mapping.reserve([m.content for m in messages] + [x.text for x in passages])
        for i, m in enumerate(messages):
            text = redactor.redact(m.content, mapping)
            label = "system prompt" if m.role == "system" and i == 0 else m.role
            sections.append(Section(label, text))
            redacted.append(ChatMessage(m.role, text))
        clean = []
        for i, passage in enumerate(passages, 1):
            text = redactor.redact(passage.text, mapping)
            sections.append(Section(f"passage {i} · {passage.collection}", text))
            clean.append(Passage(text, passage.collection))
        return Preview(
            endpoint,
            sections,
            mapping.redactions,
            compose(redacted, clean),
            conversation_id,
            redactor.notices,
        )

    def record_sent(self, clearance: Clearance, body: bytes) -> LedgerEntry:
        """Write the ledger row for the exact bytes about to leave; call it before sending,
        and `ledger.settle` it with what became of the request."""
        e = clearance.endpoint
        entry = self.ledger.record(
            endpoint=e.name,
            host=e.host,
            kind=str(e.kind),
            model=e.model,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            redactions=clearance.mapping.hits,
            conversation_id=clearance.conversation_id,
            consent=str(clearance.consent),
            outcome=Outcome.SENDING,
        )
        clearance.sent.append(entry)
        return entry

    @contextmanager
    def door(self, clearance: Clearance) -> Iterator[None]:
        """Open the network guard for the endpoint's host while the request runs."""
        with self.guard.allow(clearance.endpoint.host) if self.guard else nullcontext():
            yield

    def _refuse(
        self,
        endpoint: RemoteEndpoint,
        conversation_id: int | None,
        consent: str,
        reason: str,
    ) -> None:
        """Nothing leaves: the row says so (0 bytes, no hash)."""
        self.ledger.record(
            endpoint=endpoint.name,
            host=endpoint.host,
            kind=str(endpoint.kind),
            model=endpoint.model,
            size=0,
            sha256="",
            redactions=0,
            conversation_id=conversation_id,
            consent=consent,
            outcome="refused",
            reason=reason,
        )
