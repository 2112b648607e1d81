"""The scores of one answer: retrieval hit, citation support, and answer scores (contains
the expected answer, embedding similarity). Pure functions over text and passages, so the
runner, the judge and the tests share them."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from app.citation import Citation
from app.evaluate.sets import Gold, Item

_CITED = re.compile(r"\[(\d{1,2})\]")


def retrieval_hit(item: Item, passages: Sequence[Citation]) -> bool | None:
    """Is a gold passage among the retrieved ones (None: the item has no gold)."""
    if not item.gold:
        return None
    return any(g.matches(p) for g in item.gold for p in passages)


def cited(answer: str, passages: Sequence[Citation]) -> list[Citation]:
    """The passages the answer cites as [n], in order, each once."""
    by_n = {p.n: p for p in passages}
    seen: list[Citation] = []
    for m in _CITED.finditer(answer):
        p = by_n.get(int(m.group(1)))
        if p is not None and p not in seen:
            seen.append(p)
    return seen


def citation_support(item: Item, answer: str, passages: Sequence[Citation]) -> bool | None:
    """Does a passage the answer cites hold the evidence: a gold passage, or the expected
    answer's text (None: the item has neither gold nor an expected answer)."""
    if not item.gold and not item.expected:
        return None
    for p in cited(answer, passages):
        if any(g.matches(p) for g in item.gold):
            return True
        if item.expected and _norm(item.expected) in _norm(p.text):
            return True
    return False


def contains_expected(item: Item, answer: str) -> bool | None:
    """Does the answer contain the expected answer (case, spaces and punctuation aside)."""
    if not item.expected:
        return None
    return _norm(item.expected) in _norm(answer)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def cost(tokens_in: int, tokens_out: int, price: tuple[float, float] | None) -> float:
    """The price of one request, from prices per million tokens in and out (0 on device)."""
    if price is None:
        return 0.0
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def gold_of(passages: Sequence[Citation]) -> list[Gold]:
    return [Gold.of(p) for p in passages]
