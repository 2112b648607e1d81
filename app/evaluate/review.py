"""Blind side-by-side review: two answers to one question, their contestants hidden, the
person's verdict (A, B, tie, both bad), and each contestant's win rate with a Wilson
confidence interval.

A `Pair` a face shows carries only the question and the two answers; which contestant
wrote which stays in the `Reviews` object (`_pending`) until the verdict is given, and the
`Verdict` returned then names them. A tie counts half a win to each side; "both bad"
counts as a loss for both (neither answer was acceptable) and is also reported apart.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from app.evaluate.errors import EvaluateError
from app.evaluate.runs import Runs
from app.evaluate.sets import TestSets
from app.store import Store

VERDICTS = ("A", "B", "tie", "both-bad")
Z95 = 1.959964


@dataclass(frozen=True)
class Pair:
    """What the person sees: a question and two anonymous answers. No contestant names."""

    token: int
    question: str
    answer_a: str
    answer_b: str


@dataclass(frozen=True)
class Verdict:
    """A recorded vote, now naming who was A and who was B."""

    verdict: str
    a: str
    b: str


@dataclass(frozen=True)
class WinRate:
    """A contestant's record: comparisons, wins (ties as halves), both-bad count, the win
    rate and its 95% Wilson interval."""

    contestant: str
    comparisons: int
    wins: float
    both_bad: int
    rate: float
    low: float
    high: float

    def describe(self) -> str:
        return (
            f"{self.contestant}: wins {self.rate:.0%} of {self.comparisons} "
            f"(95% CI {self.low:.0%}–{self.high:.0%}), both bad {self.both_bad}"
        )


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (ties make `successes` fractional)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


class Reviews:
    """Pairs to review from one run, in a random order, and the votes on them."""

    def __init__(self, store: Store, run_id: int, seed: int | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.runs = Runs(store)
        self._rng = random.Random(seed)
        self._pending: dict[int, tuple[int, str, str]] = {}
        self._queue: list[tuple[int, str, str]] = []
        self._next_token = 1
        self._build()

    def _build(self) -> None:
        run = self.runs.get(self.run_id)
        test_set = TestSets(self.store).by_id(run.set_id)
        questions = {i.id: i.question for i in test_set.items}
        by_item: dict[int, dict[str, str]] = {}
        for r in self.runs.results(self.run_id):
            if not r.error and r.answer:
                by_item.setdefault(r.item_id, {})[r.contestant] = r.answer
        reviewed = {
            (row["item_id"], frozenset((row["left_contestant"], row["right_contestant"])))
            for row in self.store.query(
                "SELECT * FROM eval_reviews WHERE run_id = ?", (self.run_id,)
            )
        }
        self._answers = by_item
        self._questions = questions
        for item_id, answers in by_item.items():
            names = sorted(answers)
            for i, x in enumerate(names):
                for y in names[i + 1 :]:
                    if (item_id, frozenset((x, y))) not in reviewed:
                        pair = (x, y) if self._rng.random() < 0.5 else (y, x)
                        self._queue.append((item_id, *pair))
        self._rng.shuffle(self._queue)

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def next_pair(self) -> Pair | None:
        """The next pair to judge (None when every pair has a verdict)."""
        if not self._queue:
            return None
        item_id, a, b = self._queue.pop()
        token = self._next_token
        self._next_token += 1
        self._pending[token] = (item_id, a, b)
        answers = self._answers[item_id]
        return Pair(token, self._questions.get(item_id, ""), answers[a], answers[b])

    def vote(self, token: int, verdict: str) -> Verdict:
        """Record the verdict on a shown pair; only now are its contestants named."""
        if verdict not in VERDICTS:
            raise EvaluateError(f"A verdict is one of {', '.join(VERDICTS)}.")
        if token not in self._pending:
            raise EvaluateError("That pair was already judged or never shown.")
        item_id, a, b = self._pending.pop(token)
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO eval_reviews (run_id, item_id, left_contestant, right_contestant,"
                " verdict, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (self.run_id, item_id, a, b, verdict, time.time()),
            )
        return Verdict(verdict, a, b)


def win_rates(store: Store, run_id: int) -> list[WinRate]:
    """Each contestant's win rate over the run's recorded votes, best first."""
    tally: dict[str, list[float]] = {}  # contestant: [comparisons, wins, both_bad]
    for row in store.query("SELECT * FROM eval_reviews WHERE run_id = ?", (run_id,)):
        a, b, v = row["left_contestant"], row["right_contestant"], row["verdict"]
        for who in (a, b):
            tally.setdefault(who, [0, 0.0, 0])[0] += 1
        if v == "A":
            tally[a][1] += 1
        elif v == "B":
            tally[b][1] += 1
        elif v == "tie":
            tally[a][1] += 0.5
            tally[b][1] += 0.5
        else:
            tally[a][2] += 1
            tally[b][2] += 1
    out = []
    for who, (n, wins, bad) in tally.items():
        low, high = wilson(wins, int(n))
        out.append(WinRate(who, int(n), wins, int(bad), wins / n if n else 0.0, low, high))
    return sorted(out, key=lambda w: -w.rate)
