"""Redaction quality on the measured set (`tests/privacy/pii_set.py`): recall and precision
per kind for Carrel's recognizers, and for the redactor it had before (one hand-written
pattern) on the same strings as the reference.

The `test` split is the report: another seed, sentence frames and reference labels the
recognizers were never adjusted on. The `dev` split is what they were adjusted on.

    python -m tests.bench.bench_redaction [--split test|dev|both] [--show]
"""

from __future__ import annotations

import argparse
import json
import platform
from collections import Counter

from app.privacy.recognize import Span
from app.privacy.redact import Redactor
from tests.bench import legacy_redact
from tests.privacy import pii_set
from tests.privacy.pii_score import Score, score


def carrel(items: list[pii_set.Item]) -> Score:
    redactors: dict[str, Redactor] = {}

    def find(item: pii_set.Item) -> list[Span]:
        r = redactors.setdefault(item.region, Redactor(region=item.region))
        return r.find(item.text)

    return score(items, find)


def legacy(items: list[pii_set.Item]) -> Score:
    return score(items, lambda item: legacy_redact.find(item.text))


def families(items: list[pii_set.Item], s: Score) -> dict[str, str]:
    """Look-alikes touched per family, out of how many."""
    total = Counter(i.family for i in items if i.lookalike)
    touched = Counter(
        i.family for i in items if i.lookalike and i.text in {t for t, _ in s.false_alarms}
    )
    return {f: f"{touched[f]}/{n}" for f, n in sorted(total.items())}


def report(split: str, show: bool) -> dict[str, object]:
    items = pii_set.load(split)
    new, old = carrel(items), legacy(items)
    if show:
        for text, why in new.misses + new.false_alarms:
            print(f"  {why}  |  {text!r}")
    return {
        "split": split,
        "strings": len(items),
        "with_personal_data": sum(1 for i in items if not i.lookalike),
        "look_alikes": new.lookalikes,
        "carrel": new.table(),
        "carrel_look_alikes_touched": new.lookalikes_touched,
        "carrel_look_alikes_by_family": families(items, new),
        "before_issue_15": old.table(),
        "before_look_alikes_touched": old.lookalikes_touched,
        "before_look_alikes_by_family": families(items, old),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["test", "dev", "both"], default="test")
    ap.add_argument("--show", action="store_true", help="print every miss and false alarm")
    a = ap.parse_args()
    splits = ["dev", "test"] if a.split == "both" else [a.split]
    summary = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "sets": [report(s, a.show) for s in splits],
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
