"""Endpoints and policy round-trip through privacy.toml; the ledger exports CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.config import Paths
from app.privacy.errors import EndpointExistsError, EndpointNotFoundError, InvalidEndpointError
from app.privacy.ledger import Ledger
from app.privacy.policy import (
    EndpointKind,
    OnDeviceOnlyAction,
    PrivacyPolicy,
    RemoteEndpoint,
    load_policy,
    save_policy,
)
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
