"""`carrel redact`: standard input as a remote endpoint would receive it, and `--json`
with offsets into the input; the redaction settings from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Paths
from app.privacy.policy import EndpointKind, RemoteEndpoint, load_policy, save_policy
from app.privacy.service import Privacy
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.support import names_pipeline
from tests.support.runners import cli

TEXT = (
    "Project Nightjar: mail o'brien@example.ie or call 030 1234567; IBAN DE89 3704 0044 "
    "0532 0130 00 EUR, host fe80::1%eth0. Dates like 15.01.2024 stay. Ingrid Solberg agrees.\n"
)


@pytest.fixture
def settings(carrel_home: Path) -> Paths:
    paths = Paths.default().ensure()
    policy = load_policy(paths)
    policy.redact_terms = ["Nightjar"]
    save_policy(paths, policy)
    return paths


def test_prints_what_a_remote_endpoint_would_receive(settings: Paths) -> None:
    assert cli("redact", "--set-region", "de")[0] == 0
    code, out, err = cli("redact", stdin=TEXT)
    assert code == 0
    assert out == (
        "Project [TERM_1]: mail [EMAIL_1] or call [PHONE_1]; IBAN [IBAN_1] EUR, host [IP_1]. "
        "Dates like 15.01.2024 stay. Ingrid Solberg agrees.\n"
    )
    assert "Names of people, places and organisations are not detected" in err
    # Exactly what the gate puts in a request.
    store = Store(settings.database)
    try:
        privacy = Privacy(settings, store)
        endpoint = RemoteEndpoint("v", "https://x.example/v1", "m", EndpointKind.THIRD_PARTY, True)
        preview = privacy.gate.preview(endpoint, Prompt([ChatMessage("user", TEXT)]))
        assert preview.parts[0].text == out
    finally:
        store.close()


def test_json_gives_spans_into_the_input(settings: Paths) -> None:
    code, out, _ = cli("redact", "--json", "--region", "DE", stdin=TEXT)
    assert code == 0
    result = json.loads(out)
    found = {(TEXT[s["start"] : s["end"]], s["kind"]) for s in result["spans"]}
    assert found == {
        ("Nightjar", "TERM"),
        ("o'brien@example.ie", "EMAIL"),
        ("030 1234567", "PHONE"),
        ("DE89 3704 0044 0532 0130 00", "IBAN"),
        ("fe80::1%eth0", "IP"),
    }
    assert all(s["placeholder"] in result["text"] for s in result["spans"])


def test_region_and_names_model_are_set_from_the_command_line(
    settings: Paths, tmp_path: Path
) -> None:
    code, _, err = cli("redact", "--set-region", "XX")
    assert code == 1 and "not a region" in err
    assert cli("redact", "--set-region", "auto")[0] == 0
    assert load_policy(settings).phone_region == ""
    pipeline = names_pipeline.build(tmp_path / "pipeline")
    code, out, _ = cli("redact", "--import-names", str(pipeline))
    assert code == 0 and "carrel_test" in out
    code, out, err = cli("redact", stdin="Ingrid Solberg sails from Bergen.")
    assert out == "[NAME_1] sails from [PLACE_1]." and "Names of people" not in err
    assert cli("redact", "--forget-names")[0] == 0
    assert cli("redact", stdin="Ingrid Solberg")[1] == "Ingrid Solberg"
