"""`Span`, the `Recognizer` protocol, and how overlapping finds become one replacement."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.privacy.recognize.scan import Scan

# How far a find can be trusted, best first: the person's own words; values with strict
# structure or check digits (an IBAN's mod 97 fails 99 times in 100 by chance); values
# with weaker checks (Luhn passes one random number in ten; a numbering plan); a model's
# guess.
TIERS = {
    "TERM": 0,
    "CUSTOM": 0,
    "IBAN": 1,
    "EMAIL": 1,
    "IP": 1,
    "CARD": 2,
    "PHONE": 2,
    "NAME": 3,
    "ORG": 3,
    "PLACE": 3,
}


@dataclass(frozen=True, order=True)
class Span:
    """A value found in a text: `text[start:end]` is of `kind`."""

    start: int
    end: int
    kind: str

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def tier(self) -> int:
        return TIERS.get(self.kind, len(TIERS))

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "kind": self.kind}


class Recognizer(Protocol):
    """Finds values of its `kinds` in the text of a `Scan`."""

    kinds: frozenset[str]

    def find(self, scan: Scan) -> Iterable[Span]: ...


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order, each replaced whole.

    A find inside another is part of it: the longer one stays (the mapped IPv4 inside
    `::ffff:192.0.2.128`, a term inside an address). Two finds that cross: if one is
    trusted more (`TIERS`), it stays and the other, which its checks vouch for less, is
    dropped (a Luhn-valid run that starts inside an IBAN); if they are trusted alike, their
    union is replaced under the longer one's kind, so no fragment of either is shown.
    """
    # The chosen spans never overlap, so sorting them by start sorts their ends too.
    chosen: list[Span] = []
    starts: list[int] = []
    ends: list[int] = []
    for span in sorted(spans, key=lambda s: (s.tier, -len(s), s.start)):
        i = bisect.bisect_right(ends, span.start)
        j = bisect.bisect_left(starts, span.end, lo=i)
        touching = chosen[i:j]
        if not touching:
            new = span
        elif any(c.contains(span) for c in touching):
            continue
        elif all(span.contains(c) for c in touching):
            new = span
        elif all(c.tier == span.tier or span.contains(c) for c in touching):
            longest = max([span, *touching], key=len)
            new = Span(
                min(span.start, touching[0].start), max(span.end, touching[-1].end), longest.kind
            )
        else:
            continue  # it crosses a find that is trusted more, which stays whole
        chosen[i:j] = [new]
        starts[i:j] = [new.start]
        ends[i:j] = [new.end]
    return chosen
