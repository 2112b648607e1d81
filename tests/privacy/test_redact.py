"""Redaction finds personal data, checks numbers, and maps placeholders back."""

from __future__ import annotations

import pytest

from app.privacy.errors import InvalidEndpointError
from app.privacy.redact import RedactionMap, Redactor, Restorer, iban_ok, luhn_ok


def redact(text: str, **kw: object) -> tuple[str, RedactionMap]:
    m = RedactionMap()
    return Redactor(**kw).redact(text, m), m  # type: ignore[arg-type]


def test_each_builtin_kind() -> None:
    text = (
        "Mail ada.lovelace@example.org or call +44 20 7946 0958. "
        "IBAN GB82 WEST 1234 5698 7654 32, card 4111 1111 1111 1111, "
        "server 192.168.10.4 and fe80::1:2:3:4."
    )
    out, m = redact(text)
    assert "[EMAIL_1]" in out and "ada.lovelace" not in out
    assert "[PHONE_1]" in out and "7946" not in out
    assert "[IBAN_1]" in out and "WEST" not in out
    assert "[CARD_1]" in out and "4111" not in out
    assert out.count("[IP_") == 2 and "192.168" not in out
    assert m.hits == 6
    assert m.restore(out) == text


def test_numbers_that_fail_their_checks_stay() -> None:
    assert not luhn_ok("4111111111111112")
    assert not iban_ok("GB82WEST12345698765433")
    out, _m = redact("Order 4111 1111 1111 1112 and IBAN GB82 WEST 1234 5698 7654 33 on 2024-01-15")
    assert "[CARD" not in out and "[IBAN" not in out and "2024-01-15" in out


def test_version_numbers_and_short_numbers_are_not_ips_or_phones() -> None:
    out, _ = redact("Python 3.11.4 ran 42 tests in 1.5 s; build 12345.")
    assert "[" not in out


def test_same_original_same_placeholder() -> None:
    out, m = redact("bob@example.com wrote to bob@example.com and eve@example.com")
    assert out == "[EMAIL_1] wrote to [EMAIL_1] and [EMAIL_2]"
    assert m.hits == 3 and len(m.redactions) == 2


def test_own_terms_and_patterns_come_first() -> None:
    out, m = redact(
        "Project Nightjar for ACME-2231 with Dr. Okafor",
        terms=["nightjar", "Okafor"],
        patterns=[r"ACME-\d+"],
    )
    assert out == "Project [TERM_1] for [CUSTOM_1] with Dr. [TERM_2]"
    assert m.restore(out) == "Project Nightjar for ACME-2231 with Dr. Okafor"


def test_a_bad_pattern_says_so() -> None:
    with pytest.raises(InvalidEndpointError, match="not a valid regular expression"):
        Redactor(patterns=["(unclosed"])


def test_streamed_placeholders_split_across_chunks_are_restored() -> None:
    _, m = redact("ada@example.org")
    r = Restorer(m)
    chunks = ["Write to [EM", "AIL", "_1] now, [not a placeholder] ok", " [EMAIL_"]
    out = "".join(r.feed(c) for c in chunks) + r.flush()
    assert out == "Write to ada@example.org now, [not a placeholder] ok [EMAIL_"


def test_switching_a_kind_off() -> None:
    out, _ = redact("ada@example.org at 10.0.0.1", kinds=["IP"])
    assert out == "ada@example.org at [IP_1]"
