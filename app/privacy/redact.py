"""Redaction before a request leaves: personal data becomes placeholders (`[EMAIL_1]`),
mapped back to the originals locally when the answer arrives.

One pass of one compiled pattern finds e-mail addresses, IBANs (mod-97 checked), card
numbers (Luhn checked), IP addresses and phone numbers; the person's own terms and regular
expressions run first. The same original gets the same placeholder for a whole request.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.privacy.errors import InvalidEndpointError

KINDS = ("TERM", "CUSTOM", "EMAIL", "IBAN", "CARD", "IP", "PHONE")

_BUILTIN = re.compile(
    r"(?P<EMAIL>(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)"
    r"|(?P<IBAN>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)"
    r"|(?P<IP6>(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]))"
    r"|(?P<IP>\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b(?!\.\d))"
    r"|(?P<NUM>(?<![\w.+])(?:\+|00)?\(?\d(?:[ ().\-/]{0,2}\d){6,18}(?![\w]))"
)
_PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")_(\d+)\]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The longest tail of a stream that may still become a placeholder: "[CUSTOM_99999]".
_MAX_PLACEHOLDER = 16


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _classify_number(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if 13 <= len(digits) <= 19 and not text.startswith("+") and luhn_ok(digits):
        return "CARD"
    if _ISO_DATE.fullmatch(text.strip()):
        return None
    if 7 <= len(digits) <= 15:
        return "PHONE"
    return None


@dataclass(frozen=True)
class Redaction:
    """One thing hidden: its kind, the placeholder sent instead, and the original."""

    kind: str
    placeholder: str
    original: str


@dataclass
class RedactionMap:
    """The placeholders of one request (or conversation) and the originals they stand for;
    it never leaves the device."""

    by_original: dict[str, Redaction] = field(default_factory=dict)
    by_placeholder: dict[str, Redaction] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # How many spans were replaced, counting repeats of the same original.
    hits: int = 0

    def placeholder_for(self, kind: str, original: str) -> str:
        self.hits += 1
        known = self.by_original.get(original)
        if known is not None:
            return known.placeholder
        n = self.counts.get(kind, 0) + 1
        self.counts[kind] = n
        r = Redaction(kind, f"[{kind}_{n}]", original)
        self.by_original[original] = r
        self.by_placeholder[r.placeholder] = r
        return r.placeholder

    @property
    def redactions(self) -> list[Redaction]:
        return list(self.by_placeholder.values())

    def restore(self, text: str) -> str:
        """Put the originals back where the answer quotes a placeholder."""
        if not self.by_placeholder:
            return text

        def back(m: re.Match[str]) -> str:
            r = self.by_placeholder.get(m.group(0))
            return r.original if r is not None else m.group(0)

        return _PLACEHOLDER.sub(back, text)


class Restorer:
    """Restores placeholders in a stream of chunks, holding back a tail that may be the
    start of a placeholder split between two chunks."""

    def __init__(self, mapping: RedactionMap) -> None:
        self._map = mapping
        self._tail = ""

    def feed(self, chunk: str) -> str:
        text = self._tail + chunk
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < _MAX_PLACEHOLDER:
            self._tail = text[cut:]
            text = text[:cut]
        else:
            self._tail = ""
        return self._map.restore(text)

    def flush(self) -> str:
        text, self._tail = self._tail, ""
        return self._map.restore(text)


class Redactor:
    """Finds personal data in text and swaps it for placeholders.

    `terms` are the person's own words (names, projects), matched whole and regardless of
    case; `patterns` are their regular expressions. Built-in kinds can be switched off.
    """

    def __init__(
        self,
        terms: Iterable[str] = (),
        patterns: Iterable[str] = (),
        kinds: Iterable[str] = ("EMAIL", "IBAN", "CARD", "IP", "PHONE"),
    ) -> None:
        self.kinds = frozenset(kinds)
        words = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self._terms = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
            if words
            else None
        )
        compiled = []
        for p in patterns:
            try:
                compiled.append(re.compile(p))
            except re.error as exc:
                raise InvalidEndpointError(
                    f"The redaction pattern {p!r} is not a valid regular expression ({exc}); "
                    "fix it in the privacy settings."
                ) from exc
        self._patterns = compiled

    def redact(self, text: str, mapping: RedactionMap) -> str:
        if self._terms is not None:
            text = self._terms.sub(lambda m: mapping.placeholder_for("TERM", m.group(0)), text)
        for pattern in self._patterns:
            text = pattern.sub(lambda m: mapping.placeholder_for("CUSTOM", m.group(0)), text)
        if self.kinds:
            text = _BUILTIN.sub(lambda m: self._builtin(m, mapping), text)
        return text

    def _builtin(self, m: re.Match[str], mapping: RedactionMap) -> str:
        group = m.lastgroup
        found = m.group(0)
        kind: str | None
        if group == "EMAIL" or group == "IP":
            kind = group
        elif group == "IP6":
            try:
                ipaddress.IPv6Address(found)
                kind = "IP" if any(c.isalnum() for c in found) else None
            except ValueError:
                kind = None
        elif group == "IBAN":
            kind = "IBAN" if iban_ok(found) else None
        else:
            kind = _classify_number(found)
        if kind is None or kind not in self.kinds:
            return found
        return mapping.placeholder_for(kind, found)
