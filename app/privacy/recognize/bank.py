"""IBANs and payment card numbers, checked by python-stdnum, written compact, in groups,
with dashes, in any case.

An IBAN ends where its country says it ends: the scan counts characters up to the
country's length from the SWIFT registry (stdnum's copy) and checks that much, so
whatever follows it ("BIC GKCCBEBB", "EUR", "SWIFT …", a year) can neither be swallowed
into the value nor make a valid IBAN fail its check and stay in the text.

A card number is 12 to 19 digits in groups, with a real issuer prefix and length for its
scheme and a valid Luhn check digit; groups that follow it (an expiry year) are not part
of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from stdnum import iban as std_iban
from stdnum import luhn

from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span

_SEP = r"(?:[ \u00a0]?[\-–.][ \u00a0]?|[ \u00a0])"
_IBAN = re.compile(rf"(?<![^\W_])[A-Za-z]{{2}}\d{{2}}(?:{_SEP}?[A-Za-z0-9]){{8,40}}")
# Card numbers are grouped with spaces or dashes; dotted digit runs are OIDs and versions.
_CARD_SEP = r"(?:[ \u00a0]?[\-–][ \u00a0]?|[ \u00a0])"
_CARD = re.compile(rf"(?<![\w+\-.,/])\d(?:{_CARD_SEP}?\d){{11,26}}(?![\w]|\.\d)")
_DIGITS = re.compile(r"\d+")


def _country_lengths() -> dict[str, int]:
    """Country code → IBAN length, from stdnum's copy of the SWIFT registry."""
    data = Path(std_iban.__file__).with_name("iban.dat").read_text(encoding="utf-8")
    lengths = {}
    for country, bban in re.findall(r'^([A-Z]{2}) .*bban="([^"]+)"', data, re.MULTILINE):
        lengths[country] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", bban))
    return lengths


IBAN_LENGTHS = _country_lengths()


@functools.lru_cache(maxsize=4096)
def iban_ok(compact: str) -> bool:
    """Country length and format, ISO 7064 mod 97-10 check digits (national check digits
    are not asked for: a mistyped account number is still the person's)."""
    try:
        std_iban.validate(compact, check_country=False)
    except ValueError:
        return False
    return True


class IbanRecognizer:
    """Finds IBANs; kind IBAN."""

    kinds = frozenset({"IBAN"})

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        done = 0
        for run_start, _ in scan.runs:
            # An IBAN's check digits are a digit run right after the two-letter country.
            start = run_start - 2
            if start < done or start < 0 or not text[start:run_start].isalpha():
                continue
            m = _IBAN.match(text, start)
            if m is None:
                continue
            length = IBAN_LENGTHS.get(text[start : start + 2].upper())
            if length is None:
                continue
            chars, end = 0, start
            while end < m.end() and chars < length:
                if text[end].isalnum():
                    chars += 1
                end += 1
            if chars != length or (end < len(text) and text[end].isalnum()):
                continue
            compact = re.sub(r"[^0-9A-Za-z]", "", text[start:end]).upper()
            if iban_ok(compact):
                done = end
                yield Span(start, end, "IBAN")


# (prefixes, lengths) of the card schemes, from the schemes' published IIN ranges.
_SCHEMES: list[tuple[tuple[str, ...], frozenset[int]]] = [
    (("4",), frozenset({13, 16, 19})),  # Visa
    (tuple(str(n) for n in [*range(51, 56), *range(2221, 2721)]), frozenset({16})),  # Mastercard
    (("34", "37"), frozenset({15})),  # American Express
    (("6011", "65", *map(str, range(644, 650))), frozenset(range(16, 20))),  # Discover
    (tuple(str(n) for n in range(3528, 3590)), frozenset(range(16, 20))),  # JCB
    (("36", "38", "39", *map(str, range(300, 306)), "3095"), frozenset(range(14, 20))),  # Diners
    (("62", "81"), frozenset(range(16, 20))),  # UnionPay
    (
        ("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"),
        frozenset(range(12, 20)),
    ),  # Maestro
    (tuple(str(n) for n in range(2200, 2205)), frozenset(range(16, 20))),  # Mir
]


@functools.lru_cache(maxsize=4096)
def card_ok(digits: str) -> bool:
    """A scheme's prefix and length, and the Luhn check digit."""
    if not any(
        len(digits) in lengths and digits.startswith(prefixes) for prefixes, lengths in _SCHEMES
    ):
        return False
    return luhn.is_valid(digits)


class CardRecognizer:
    """Finds payment card numbers; kind CARD."""

    kinds = frozenset({"CARD"})

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        for start, end in scan.runs:
            if end - start < 12:
                continue
            for m in _CARD.finditer(text, start, min(len(text), end + 2)):
                found = self._within(m.group())
                if found is not None:
                    yield Span(m.start() + found[0], m.start() + found[1], "CARD")

    @staticmethod
    def _within(run: str) -> tuple[int, int] | None:
        """The longest stretch of whole groups in `run` that is a card number (digits
        before it, an expiry year after it, are not part of it)."""
        groups = [(m.start(), m.end()) for m in _DIGITS.finditer(run)]
        best: tuple[int, int] | None = None
        for a in range(len(groups)):
            digits = ""
            for b in range(a, len(groups)):
                digits += run[groups[b][0] : groups[b][1]]
                if len(digits) > 19:
                    break
                span = (groups[a][0], groups[b][1])
                longer = best is None or span[1] - span[0] > best[1] - best[0]
                if len(digits) >= 12 and longer and card_ok(digits):
                    best = span
        return best
