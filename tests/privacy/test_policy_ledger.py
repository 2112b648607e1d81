"""Endpoints and policy round-trip through privacy.toml; the ledger exports CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.config import Paths
from app.errors import SettingsError
from app.privacy.errors import EndpointExistsError, EndpointNotFoundError, InvalidEndpointError
from app.privacy.ledger import Ledger
from app.privacy.policy import (
    EndpointKind,
    OnDeviceOnlyAction,
    PrivacyPolicy,
    RemoteEndpoint,
    load_policy,
    policy_file,
    save_policy,
)
from app.privacy.service import Privacy
from app.store import Store


def test_defaults_send_nothing() -> None:
    p = load_policy(Paths.default())
    assert p.endpoints == [] and p.on_device_only_action == OnDeviceOnlyAction.REFUSE


def test_round_trip() -> None:
    paths = Paths.default()
    p = PrivacyPolicy(on_device_only=["contracts"], redact_terms=["Nightjar"])
    p.add(RemoteEndpoint("vendor", "https://api.example.com/v1", "gpt-x"))
    p.add(RemoteEndpoint("team", "http://10.0.0.5:8080/v1", "qwen", EndpointKind.SELF_HOSTED))
    p.on_device_only_action = OnDeviceOnlyAction.LOCAL
    save_policy(paths, p)
    back = load_policy(paths)
    assert back == p
    assert back.endpoint("vendor").enabled is False
    assert back.endpoint("team").host == "10.0.0.5"


def test_mistakes_say_what_to_do() -> None:
    p = PrivacyPolicy()
    with pytest.raises(InvalidEndpointError, match="not an http"):
        p.add(RemoteEndpoint("x", "ftp://example.com", "m"))
    p.add(RemoteEndpoint("x", "https://example.com/v1", "m"))
    with pytest.raises(EndpointExistsError):
        p.add(RemoteEndpoint("x", "https://example.com/v1", "m"))
    with pytest.raises(EndpointNotFoundError, match="carrel remote list"):
        p.endpoint("nope")


def test_ledger_exports(tmp_path: object) -> None:
    store = Store(Paths.default().database)
    try:
        ledger = Ledger(store)
        ledger.record(
            endpoint="team",
            host="10.0.0.5",
            kind="self-hosted",
            model="qwen",
            size=120,
            sha256="ab" * 32,
            redactions=2,
            conversation_id=7,
            consent="once",
        )
        ledger.record(
            endpoint="team",
            host="10.0.0.5",
            kind="self-hosted",
            model="qwen",
            size=0,
            sha256="",
            redactions=0,
            conversation_id=7,
            consent="refused",
            outcome="refused",
            reason="refused by the person",
        )
        rows = list(csv.DictReader(io.StringIO(ledger.export_csv())))
        assert [r["outcome"] for r in rows] == ["sent", "refused"]
        assert rows[0]["sha256"] == "ab" * 32 and rows[0]["bytes"] == "120"
        data = json.loads(ledger.export_json())
        assert data[1]["reason"] == "refused by the person"
        assert data[0]["at"].endswith("+00:00")
        # The ledger survives reopening: it is in the database, not in memory.
        assert len(Ledger(store).entries(conversation_id=7)) == 2
    finally:
        store.close()


def test_changes_go_through_the_service_checked_saved_and_told(store: Store) -> None:
    privacy = Privacy(Paths.default(), store)
    seen: list[str] = []
    privacy.listeners.append(seen.append)
    with pytest.raises(InvalidEndpointError, match="not a valid regular expression"):
        privacy.set_redaction(patterns=["ACME-("])
    with pytest.raises(InvalidEndpointError, match="Unknown redaction kind SSN"):
        privacy.set_redaction(kinds=["EMAIL", "SSN"])
    with pytest.raises(InvalidEndpointError, match="not a choice"):
        privacy.set_on_device_only(action="shred")
    assert seen == [] and privacy.policy == PrivacyPolicy()  # a bad value changes nothing
    privacy.set_redaction(patterns=[r"ACME-\d{4}"], terms=[" Nightjar ", ""], kinds=["EMAIL"])
    privacy.set_on_device_only(collections=["contracts", "contracts", "hr"], action="local")
    assert seen == ["redaction", "on-device-only"]
    again = load_policy(Paths.default())
    assert again.redact_patterns == [r"ACME-\d{4}"] and again.redact_terms == ["Nightjar"]
    assert again.redact_kinds == ["EMAIL"] and again.on_device_only == ["contracts", "hr"]
    assert again.on_device_only_action == OnDeviceOnlyAction.LOCAL


def test_a_privacy_file_from_a_newer_carrel_is_refused() -> None:
    paths = Paths.default().ensure()
    policy_file(paths).write_text("schema_version = 2\n")
    with pytest.raises(SettingsError, match="newer Carrel"):
        load_policy(paths)
    policy_file(paths).write_text('on_device_only = ["hr"]\n')  # written before versions
    assert load_policy(paths).on_device_only == ["hr"]  # read as the first version
