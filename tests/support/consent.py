"""The person at the consent dialog, scripted (`Answers`), and a gate over a real ledger."""

from __future__ import annotations

from app.privacy.gate import Consent, EgressGate, Preview
from app.privacy.ledger import Ledger
from app.privacy.policy import EndpointKind, PrivacyPolicy, RemoteEndpoint
from app.store import Store


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
