"""Phone numbers, found and validated by libphonenumber (`phonenumbers`) for the person's
region: what tells a phone number from a date, a time, a version or an invoice number is
its country's numbering plan, not the shape of the digits.

A cheap scan picks runs of digits and phone punctuation; only those go to
`PhoneNumberMatcher` (with a character of context on each side), and its verdict per run
is cached, so long texts cost little more than the scan. A number written right after a
reference label ("Order #", "Rechnungsnummer", "n°") is a reference, not a phone number,
unless it is written internationally (+…).

The region is a setting; `guess_region()` reads it from the locale. Without one, only
numbers written with their country code are found.
"""

from __future__ import annotations

import functools
import locale
import os
import re
from collections.abc import Iterator

from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span

# Reference labels in the languages Carrel's people write; a number right after one is
# an identifier. Stems, so that "Kundennummer", "Bestellnr." and "order no." all count.
_LABEL = re.compile(
    r"(?:#|\bn[°ºo]\.?|\bnr\.?|\bno\.?|\bnum\w*\.?|\bnúm\w*\.?|\bid|\bref\w*\.?"
    r"|\binvoice\w*|\border\w*|\bticket\w*|\bcase\w*|\bcustomer\w*|\baccount\w*|\bclaim\w*"
    r"|\bpo|\brechnung\w*|\bbestell\w*|\bkunde\w*|\bauftrag\w*|\bvorgang\w*|\baz\."
    r"|\bfactu\w*|\bcommande\w*|\bclient\w*|\bdossier\w*|\bpedido\w*|\bexpediente\w*"
    r"|\bfattur\w*|\bordin\w*|\bpratica\w*|\bbestelling\w*|\bklant\w*|\bfaktu\w*"
    r"|\bzamówieni\w*|\bärende\w*|\bkund\w*|\bakten\w*)"
    r"[ \t]*(?:n[°ºo]\.?|n\.|nr\.?|no\.?|number|id)?[ \t]*[:#.]?[ \t]*#?[ \t]*$",
    re.IGNORECASE,
)
_LABEL_REACH = 32
# Digits separated by dots alone: OIDs and versions (a group of one digit, or of five
# or more), thousands (1.234.567) and IPv4 addresses are not phone numbers, whatever their
# digits spell.
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
# Dates with dots, dashes or slashes: d.m.yy, d-m-yyyy, yyyy-mm-dd.
_DATE = re.compile(r"(?:\d{1,2}([./\-])\d{1,2}\1(?:\d{2}|\d{4})|\d{4}([./\-])\d{1,2}\2\d{1,2})")
# A code that the digits continue ("1Z 999 AA1 25 3405 7335"): a token of letters and
# digits right before them.
_CODE_BEFORE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9\-]+[ \t]$")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)")
# Right after a number: a time (":30"), a port or a prefix length ("/24").
_TAIL = re.compile(r"[:/]\d")


def guess_region() -> str:
    """The two-letter region of the locale (de_DE.UTF-8 → DE), or "" when it has none."""
    for value in (
        os.environ.get("LC_ALL"),
        os.environ.get("LC_TELEPHONE"),
        os.environ.get("LANG"),
        locale.getlocale()[0],
    ):
        m = re.match(r"^[a-z]{2,3}[_-]([A-Z]{2})\b", value or "")
        if m and region_known(m.group(1)):
            return m.group(1)
    return ""


def region_known(region: str) -> bool:
    from phonenumbers import SUPPORTED_REGIONS

    return region.upper() in SUPPORTED_REGIONS


@functools.lru_cache(maxsize=16384)
def _matches(window: str, region: str) -> tuple[tuple[int, int], ...]:
    from phonenumbers import Leniency, PhoneNumberMatcher

    return tuple(
        (m.start, m.end)
        for m in PhoneNumberMatcher(window, region or "ZZ", leniency=Leniency.VALID)
    )


class PhoneRecognizer:
    """Finds phone numbers valid in their country; kind PHONE. `region` is the country
    whose national format the person writes ("" for none)."""

    kinds = frozenset({"PHONE"})

    def __init__(self, region: str = "") -> None:
        self.region = region.upper() if region and region_known(region) else ""

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        for start, end in scan.runs:
            if end - start < 5 or _word(text, end):
                continue
            digits = sum(map(str.isdigit, text[start:end]))
            if not 5 <= digits <= 20:
                continue
            if start and text[start - 1] in "+(":
                start -= 1
            # Not a number glued to a word, a version or a decimal ("v2", "x.12", "INV-…").
            if start and (_word(text, start - 1) or text[start - 1] in ".,@"):
                continue
            if start > 1 and text[start - 1] == "-" and _word(text, start - 2):
                continue
            lo, hi = max(0, start - 1), min(len(text), end + 1)
            window = text[lo:hi]
            found = _matches(window, self.region)
            k = start - lo
            if window.startswith("00", k) and not any(a == k for a, _ in found):
                # "00" is the international prefix almost everywhere, but not in every
                # region's numbering plan (the US dials 011): read it as "+".
                plus = tuple(
                    (k if a == k + 1 else a, b)
                    for a, b in _matches(window[:k] + " +" + window[k + 2 :], self.region)
                )
                if any(a == k for a, _ in plus):
                    found = plus
            for start, end in found:
                s, e = lo + start, lo + end
                # "(+47 55 12 34 56)": the sentence's brackets are not the number's.
                if text[s] == "(" and ")" not in text[s:e]:
                    s += 1
                if _not_a_phone(text, s, e):
                    continue
                yield Span(s, e, "PHONE")


def _word(text: str, i: int) -> bool:
    return i < len(text) and (text[i].isalnum() or text[i] == "_")


def _not_a_phone(text: str, start: int, end: int) -> bool:
    found = text[start:end]
    if _TAIL.match(text, end):
        return True
    international = found.startswith(("+", "00"))
    if international:
        return False
    if _IPV4.search(found) or _DATE.fullmatch(found):
        return True
    if _DOTTED.fullmatch(found):
        groups = found.split(".")
        if any(len(g) < 2 for g in groups[1:]) or any(len(g) > 4 for g in groups):
            return True
        if _THOUSANDS.fullmatch(found):
            return True
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - _LABEL_REACH) : start]
    return _LABEL.search(before) is not None or _CODE_BEFORE.search(before) is not None
