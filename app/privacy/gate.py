"""`EgressGate`: the only door off the machine.

Before a request leaves, the gate checks that the endpoint is switched on and that no
passage comes from an on-device-only collection, redacts each part of the `Prompt` it is
given, shows the person a `Preview` of exactly those parts, and asks for consent (once,
for this conversation, or refuse). The request carries the messages the redacted parts
make up (`app.prompt.join`): the gate adds nothing to them. The remote backend then calls
`record_sent` with the exact bytes it is about to send, which writes the ledger row
before anything leaves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum

from app.netguard import NetGuard
from app.privacy.errors import ConsentRefusedError, OnDeviceOnlyError, RemoteDisabledError
from app.privacy.ledger import Ledger, LedgerEntry, Outcome
from app.privacy.policy import OnDeviceOnlyAction, PrivacyPolicy, RemoteEndpoint
from app.privacy.redact import Redaction, RedactionMap, Redactor
from app.prompt import ChatMessage, Part, Prompt, join, redact_parts


class Consent(StrEnum):
    """The person's answer to a preview."""

    ONCE = "once"
    CONVERSATION = "conversation"
    REFUSE = "refused"


@dataclass
class Preview:
    """Everything a remote request will carry, shown to the person before it leaves:
    its `parts` ("system prompt", "passage 2 · contracts", "user"…) exactly as they will
    be sent, placeholders included, and the messages they make up."""

    endpoint: RemoteEndpoint
    parts: list[Part]
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
        for p in self.parts:
            lines += [f"── {p.label} ──", p.text.strip("\n"), ""]
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
        self, endpoint: RemoteEndpoint, prompt: Prompt, conversation_id: int | None = None
    ) -> Preview:
        """Redact and lay out what the request would carry; asks nothing, sends nothing."""
        redactor = Redactor.for_policy(self.policy)
        return self._preview(endpoint, prompt, conversation_id, redactor, RedactionMap())

    def clear(
        self, endpoint: RemoteEndpoint, prompt: Prompt, conversation_id: int | None = None
    ) -> Clearance:
        """Check, redact, show and ask; a refusal is written to the ledger and raised."""
        if not endpoint.enabled:
            self._refuse(endpoint, conversation_id, "policy", "endpoint switched off")
            raise RemoteDisabledError(endpoint.name)
        on_device = self.policy.on_device_only
        private = [c.collection for c in prompt.passages if c.collection in on_device]
        if private:
            local = self.policy.on_device_only_action == OnDeviceOnlyAction.LOCAL
            reason = "on-device-only collection: " + ", ".join(sorted(set(private)))
            self._refuse(endpoint, conversation_id, "policy", reason)
            raise OnDeviceOnlyError(private, run_locally=local)
        redactor = Redactor.for_policy(self.policy)
        mapping = RedactionMap()
        preview = self._preview(endpoint, prompt, conversation_id, redactor, mapping)
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
        prompt: Prompt,
        conversation_id: int | None,
        redactor: Redactor,
        mapping: RedactionMap,
    ) -> Preview:
        parts = prompt.parts()
        mapping.reserve([p.text for p in parts])
        parts = redact_parts(parts, lambda text: redactor.redact(text, mapping))
        return Preview(
            endpoint, parts, mapping.redactions, join(parts), conversation_id, redactor.notices
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
