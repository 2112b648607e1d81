"""Scores a redactor on the measured set: recall and precision per kind.

A value counts as found only when one replaced span of its kind covers all of it (a
partial replacement is a miss). A replaced span is correct only when it covers a value of
its kind and reaches past it by nothing but punctuation or spaces; any other replacement
is a false positive, and on look-alikes every replacement is one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from app.privacy.recognize import Span
from tests.privacy.pii_set import Item

KINDS = ("EMAIL", "PHONE", "IBAN", "CARD", "IP")


@dataclass
class Score:
    """Counts per kind, and the strings that went wrong (for reading, not for tuning)."""

    values: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predicted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)
    lookalikes: int = 0
    lookalikes_touched: int = 0

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.values[kind] if self.values[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.correct[kind] / self.predicted[kind] if self.predicted[kind] else 1.0

    def table(self) -> list[dict[str, object]]:
        return [
            {
                "kind": k,
                "values": self.values[k],
                "recall": round(self.recall(k), 3),
                "replaced": self.predicted[k],
                "precision": round(self.precision(k), 3),
            }
            for k in KINDS
        ]


def _covers(span: Span, start: int, end: int) -> bool:
    return span.start <= start and span.end >= end


def _exact(span: Span, start: int, end: int, text: str) -> bool:
    extra = text[span.start : start] + text[end : span.end]
    return _covers(span, start, end) and not any(c.isalnum() for c in extra)


def score(items: list[Item], find: Callable[[Item], list[Span]]) -> Score:
    s = Score()
    for item in items:
        spans = find(item)
        gold = [(int(g["start"]), int(g["end"]), str(g["kind"])) for g in item.spans]
        if item.lookalike:
            s.lookalikes += 1
            s.lookalikes_touched += bool(spans)
        for start, end, kind in gold:
            s.values[kind] += 1
            if any(sp.kind == kind and _covers(sp, start, end) for sp in spans):
                s.found[kind] += 1
            else:
                shown = [item.text[sp.start : sp.end] + f" ({sp.kind})" for sp in spans]
                s.misses.append((item.text, f"{kind} {item.text[start:end]!r} got {shown}"))
        for sp in spans:
            s.predicted[sp.kind] += 1
            if any(sp.kind == k and _exact(sp, a, b, item.text) for a, b, k in gold):
                s.correct[sp.kind] += 1
            else:
                s.false_alarms.append((item.text, f"{sp.kind} {item.text[sp.start : sp.end]!r}"))
    return s
