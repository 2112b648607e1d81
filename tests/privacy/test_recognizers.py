"""The recognizers on the cases an analyst reported, on every IBAN country followed by
what usually follows an IBAN, and on the measured set's two splits."""

from __future__ import annotations

import random
import re

import pytest

from app.citation import Citation
from app.privacy.gate import EgressGate
from app.privacy.policy import EndpointKind, PrivacyPolicy, RemoteEndpoint
from app.privacy.redact import RedactionMap, Redactor, Restorer
from app.prompt import ChatMessage, Prompt
from tests.privacy import pii_set
from tests.privacy.pii_score import KINDS, score
from tests.privacy.pii_values import IBAN_COUNTRIES, iban_compact, iban_spaced


def redact(text: str, region: str = "DE") -> str:
    return Redactor(region=region).redact(text, RedactionMap())


@pytest.mark.parametrize(
    "address",
    [
        "müller@example.de",
        "h.müller@firma.de",
        "zoë@example.fr",
        "info@bücher.de",
        "user@sub_domain.example.com",
        "o'brien@example.ie",
        "jean‐luc@example.fr",
        "用户@例子.广告",
        "First+Tag@Mail.Co.UK",
    ],
)
def test_addresses_are_replaced_whole(address: str) -> None:
    for written in (address, f"<{address}>", f"Mail {address}.", f"mailto:{address}"):
        out = redact(written)
        assert "[EMAIL_1]" in out and address not in out
        assert out.replace("[EMAIL_1]", "") in ("", "<>", "Mail .", "mailto:"), out


@pytest.mark.parametrize(
    "iban",
    [
        "BE68539007547034",
        "AT611904300234573201",
        "SE4550000000058398257466",
        "de89 3704 0044 0532 0130 00",
        "GB82-WEST-1234-5698-7654-32",
    ],
)
def test_ibans_in_any_writing(iban: str) -> None:
    assert redact(f"IBAN {iban}, thanks") == "IBAN [IBAN_1], thanks"


@pytest.mark.parametrize("country", IBAN_COUNTRIES)
def test_every_iban_country_followed_by_bic_eur_swift_or_a_year(country: str) -> None:
    rng = random.Random(country)
    for written in (iban_compact(rng, country), iban_spaced(iban_compact(rng, country))):
        for after in (" BIC GKCCBEBB", " EUR", " SWIFT DEUTDEFF", " 2024"):
            out = redact(f"IBAN {written}{after}")
            assert out == f"IBAN [IBAN_1]{after}", (written, after, out)


def test_cards_grouped_any_way() -> None:
    for card in ("4040 - 0088 - 3873 - 7168", "4111111111111111", "3782 822463 10005"):
        assert redact(f"card {card} exp 12/27") == "card [CARD_1] exp 12/27"


@pytest.mark.parametrize(
    "address",
    [
        "192.0.2.128",
        "192.000.002.001",
        "::ffff:192.0.2.128",
        "fe80::1%eth0",
        "2001:0DB8:0000:0000:0000:FF00:0042:8329",
        "2001:db8::1",
        "::1",
    ],
)
def test_ip_addresses_in_every_form(address: str) -> None:
    assert redact(f"host {address} is down") == "host [IP_1] is down"
    assert redact(f"see [{address}]:443.") == "see [[IP_1]]:443."


@pytest.mark.parametrize(
    "text",
    [
        "15.01.2024",
        "01/15/2024",
        "2024-01-15 14:30",
        "06/01/2012",
        "10.0.19045.2965",
        "Invoice 2024-10-0451",
        "Order #4155552671",
        "Kundennummer 1234567890",
        "ISBN 978-3-16-148410-0",
        "OID 1.3.6.1.4.1.311.21.8",
        "€ 1.234.567,89",
        "v1.2.3.4",
        "icon@2x.png",
        "lodash@4.17.21",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    for region in ("US", "DE", "FR", "GB"):
        assert redact(f"Ref: {text} ok", region) == f"Ref: {text} ok"


def test_phone_numbers_for_the_region() -> None:
    assert redact("Ruf an: 030 1234567", "DE") == "Ruf an: [PHONE_1]"
    assert redact("Call (415) 555-2671", "US") == "Call [PHONE_1]"
    assert redact("Call +44 20 7946 0958 or 0044 20 7946 0959", "US") == (
        "Call [PHONE_1] or [PHONE_2]"
    )
    # Without a region only numbers with their country code are found, and it is said.
    r = Redactor(region="")
    assert r.redact("030 1234567 or +49 30 1234567", RedactionMap()) == "030 1234567 or [PHONE_1]"
    assert any("country code" in n for n in r.notices)


def test_the_consent_preview_shows_no_fragment_of_a_recognised_value() -> None:
    values = [
        "BE68 5390 0754 7034",
        "o'brien@example.ie",
        "::ffff:192.0.2.128",
        "fe80::1%eth0",
        "4040 - 0088 - 3873 - 7168",
        "+49 (0)30 1234567",
    ]
    text = " / ".join(f"{v} BIC GKCCBEBB" for v in values)
    gate = EgressGate(PrivacyPolicy(phone_region="DE"), ledger=None)  # type: ignore[arg-type]
    endpoint = RemoteEndpoint("v", "https://x.example/v1", "m", EndpointKind.THIRD_PARTY, True)
    passage = Citation("notes.txt", text=text, collection="notes")
    preview = gate.preview(endpoint, Prompt.asking([ChatMessage("user", text)], [passage]))
    shown = [p.text for p in preview.parts] + [m.content for m in preview.messages]
    for out in [redact(text), *shown]:
        for v in values:
            for fragment in re.findall(r"[0-9A-Za-z']{3,}", v):
                if fragment not in ("BIC", "eth0", "ffff"):
                    assert fragment not in out, (fragment, out)


def test_restoring_leaves_placeholders_that_were_already_there() -> None:
    m = RedactionMap()
    text = "Template: write to [EMAIL_1]. Real: ada@example.org, [IP_2] stays"
    out = Redactor().redact(text, m)
    assert out == "Template: write to [EMAIL_1]. Real: [EMAIL_2], [IP_2] stays"
    answer = "Sent [EMAIL_2] the template for [EMAIL_1] and [IP_2]."
    restored = "Sent ada@example.org the template for [EMAIL_1] and [IP_2]."
    assert m.restore(answer) == restored
    r = Restorer(m)
    streamed = [r.feed(c) for c in ["Sent [EMA", "IL_2] the template for [EMAIL_1]"]]
    assert "".join(streamed) + r.flush() == "Sent ada@example.org the template for [EMAIL_1]"


def test_the_measured_set_is_what_the_generator_makes() -> None:
    for split in pii_set.SEEDS:
        assert pii_set.path_of(split).read_text(encoding="utf-8") == pii_set.dumps(
            pii_set.generate(split)
        ), f"run python -m tests.privacy.pii_set to rewrite {split}"


@pytest.mark.parametrize("split", ["dev", "test"])
def test_measured_set_meets_the_targets(split: str) -> None:
    items = pii_set.load(split)
    assert sum(1 for i in items if not i.lookalike) >= 500
    assert sum(1 for i in items if i.lookalike) >= 300
    redactors: dict[str, Redactor] = {}

    def find(item: pii_set.Item) -> list[object]:
        r = redactors.setdefault(item.region, Redactor(region=item.region))
        return r.find(item.text)  # type: ignore[return-value]

    s = score(items, find)  # type: ignore[arg-type]
    for kind in KINDS:
        assert s.precision(kind) >= 0.97, (kind, s.false_alarms)
        target = 0.97 if kind == "PHONE" else 0.99
        assert s.recall(kind) >= target, (kind, s.misses)
