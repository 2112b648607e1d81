"""Privacy: keyring-held keys, the egress gate with redaction and consent, the ledger."""

from app.privacy.gate import Consent, EgressGate, Preview
from app.privacy.keys import Keys
from app.privacy.ledger import Ledger, LedgerEntry
from app.privacy.policy import EndpointKind, OnDeviceOnlyAction, PrivacyPolicy, RemoteEndpoint
from app.privacy.redact import RedactionMap, Redactor

__all__ = [
    "Consent",
    "EgressGate",
    "EndpointKind",
    "Keys",
    "Ledger",
    "LedgerEntry",
    "OnDeviceOnlyAction",
    "Preview",
    "PrivacyPolicy",
    "RedactionMap",
    "Redactor",
    "RemoteEndpoint",
]
