"""The redactor Carrel had before issue 15 (one hand-written pattern), kept only as the
same-run reference of `bench_privacy` (speed) and `bench_redaction` (quality). Not used
by Carrel."""

from __future__ import annotations

import ipaddress
import re

from app.privacy.recognize import Span

_BUILTIN = re.compile(
    r"(?P<EMAIL>(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)"
    r"|(?P<IBAN>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)"
    r"|(?P<IP6>(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]))"
    r"|(?P<IP>\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b(?!\.\d))"
    r"|(?P<NUM>(?<![\w.+])(?:\+|00)?\(?\d(?:[ ().\-/]{0,2}\d){6,18}(?![\w]))"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    number = "".join(str(int(ch, 36)) for ch in s[4:] + s[:4])
    return int(number) % 97 == 1


def _classify(m: re.Match[str]) -> str | None:
    group, found = m.lastgroup, m.group(0)
    if group in ("EMAIL", "IP"):
        return group
    if group == "IP6":
        try:
            ipaddress.IPv6Address(found)
        except ValueError:
            return None
        return "IP" if any(c.isalnum() for c in found) else None
    if group == "IBAN":
        return "IBAN" if _iban_ok(found) else None
    digits = re.sub(r"\D", "", found)
    if 13 <= len(digits) <= 19 and not found.startswith("+") and _luhn_ok(digits):
        return "CARD"
    if _ISO_DATE.fullmatch(found.strip()):
        return None
    return "PHONE" if 7 <= len(digits) <= 15 else None


def find(text: str) -> list[Span]:
    """The spans the old redactor replaced."""
    out = []
    for m in _BUILTIN.finditer(text):
        kind = _classify(m)
        if kind is not None:
            out.append(Span(m.start(), m.end(), kind))
    return out


def redact(text: str, terms: list[str], patterns: list[str]) -> tuple[str, int]:
    """The text as the old redactor sent it (own terms, then patterns, then the built-in
    pattern), and how many values it replaced."""
    hits = 0
    words = sorted(terms, key=len, reverse=True)
    own = [re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)]
    for pattern in [*own, *map(re.compile, patterns)]:
        text, n = pattern.subn("[TERM]", text)
        hits += n

    def sub(m: re.Match[str]) -> str:
        nonlocal hits
        kind = _classify(m)
        if kind is None:
            return m.group(0)
        hits += 1
        return f"[{kind}]"

    return _BUILTIN.sub(sub, text), hits
