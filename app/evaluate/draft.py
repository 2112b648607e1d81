"""Drafting a test set from a collection: a model the person picks reads sampled passages
and writes, for each, one question it answers (and a short answer when it gives one). The
question is kept with its passage as gold, as a draft the person then accepts, edits or
drops."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.engine.backend import Done, GenerationParams
from app.evaluate.passages import sample_passages
from app.evaluate.sets import Gold, Item, TestSet, TestSets
from app.prompt import ChatMessage

if TYPE_CHECKING:
    from app.workbench import Workbench

DRAFT_PROMPT = (
    "Read this passage and write one question that it answers, then the short answer.\n"
    "Passage:\n{passage}\n\nWrite exactly two lines:\nQuestion: ...\nAnswer: ..."
)
_QUESTION = re.compile(r"question\s*:\s*(.+)", re.IGNORECASE)
_ANSWER = re.compile(r"answer\s*:\s*(.+)", re.IGNORECASE)


def parse_draft(text: str) -> tuple[str, str]:
    """(question, answer) from a model's reply; the first line ending in '?' when it did
    not follow the format; ('', '') when there is no question."""
    q = _QUESTION.search(text)
    a = _ANSWER.search(text)
    question = q.group(1).strip() if q else ""
    if not question:
        question = next((ln.strip() for ln in text.splitlines() if ln.strip().endswith("?")), "")
    answer = a.group(1).strip() if a else ""
    return question, answer


def draft_set(
    workbench: Workbench,
    test_set: TestSet,
    model: str,
    n: int,
    *,
    seed: int = 0,
    max_tokens: int = 64,
    on_item: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[int]:
    """Add up to `n` draft items to `test_set` from its collection, written by `model`
    (loaded through the Workbench); returns the new items' ids."""
    passages = sample_passages(workbench.documents, test_set.collection, n, seed)
    workbench.load_model(model)
    params = GenerationParams.from_settings(
        workbench.settings.sampling, {"temperature": 0.0, "seed": seed, "max_tokens": max_tokens}
    )
    sets = TestSets(workbench.store)
    ids: list[int] = []
    for k, passage in enumerate(passages, start=1):
        if cancelled():
            break
        ask = DRAFT_PROMPT.format(passage=passage.text[:1500])
        done = None
        for event in workbench.complete([ChatMessage("user", ask)], params):
            if isinstance(event, Done):
                done = event
        question, answer = parse_draft(done.text if done else "")
        if question:
            item = Item(
                0, question, answer, [Gold.of(passage)], status="draft", origin=f"draft:{model}"
            )
            ids += sets.add(test_set, [item])
        if on_item is not None:
            on_item(k, len(passages))
    return ids
