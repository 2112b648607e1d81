"""IP addresses in every written form, each as one whole value: IPv4 (zero-padded octets
too), IPv6 full, compressed, upper case, zero-padded, IPv4-mapped (`::ffff:192.0.2.128`)
and with a zone id (`fe80::1%eth0`). The standard library's `ipaddress` decides.

Dotted numbers that are parts of longer dotted runs (OIDs `1.3.6.1.4.1`, versions
`10.0.19045.2965`) are not addresses, nor is a dotted quad written as a version
(`v1.2.3.4`, `version 4.2.1.0`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span

_V4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_V6 = re.compile(
    r"(?<![\w:.%])"
    r"(?:[0-9A-Fa-f]{1,4}:|::)[0-9A-Fa-f:]*"
    r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:%[0-9A-Za-z_\-]+)?"
)
# Where an IPv6 address may be: two colons with only hex digits between them.
_V6_GATE = re.compile(r":[0-9A-Fa-f]*:")
_V6_CHARS = frozenset("0123456789abcdefABCDEF:")
_VERSION_BEFORE = re.compile(r"\b(?:version|release|build|ver\.?|v)\s*$", re.IGNORECASE)


def _octets_ok(text: str) -> bool:
    return all(int(part) <= 255 for part in text.split("."))


def _v6_ok(text: str) -> bool:
    address = text.split("%", 1)[0]
    if not any(c.isdigit() for c in address) or address.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


class IpRecognizer:
    """Finds IPv4 and IPv6 addresses; kind IP."""

    kinds = frozenset({"IP"})

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        for start, end in scan.runs:
            if end - start < 7 or "." not in text[start:end]:
                continue
            for m in _V4.finditer(text, start, min(len(text), end + 2)):
                before = max(0, m.start() - 12)
                if _octets_ok(m.group()) and not _VERSION_BEFORE.search(text, before, m.start()):
                    yield Span(m.start(), m.end(), "IP")
        yield from self._v6(text)

    @staticmethod
    def _v6(text: str) -> Iterator[Span]:
        done = 0
        for gate in _V6_GATE.finditer(text):
            left = gate.start()
            if left < done:
                continue
            while left > 0 and text[left - 1] in _V6_CHARS:
                left -= 1
            m = _V6.match(text, left)
            if m is None:
                continue
            found = m.group()
            # A sentence's colon after the address ("at fe80::1: down") is not part of it.
            while found.endswith(":") and not found.endswith("::"):
                found = found[:-1]
            end = left + len(found)
            done = max(done, m.end())
            if _v6_ok(found) and not text[end : end + 1].isalnum():
                yield Span(left, end, "IP")
