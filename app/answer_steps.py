"""What a document answer does before its first word, told as it happens, and the note
on a model too small to answer from documents well.

A conversation tied to collections is answered after a search of each collection and a
read of the passages found (the prompt's processing, most of the wait before the first
word). `Workbench` reports each `Step` to the listener that the calling thread set with
`reporting(...)`: the window's generation worker forwards them to the chat, the command
line prints them. The listener lives in a `ContextVar`, so it belongs to one thread (one
reply) and the core's signatures stay as they are; with none set, `report` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final, Literal

from app.citation import Citation
from app.library.registry import ModelInfo

StepKind = Literal["searching", "reading"]
SEARCHING: Final = "searching"
READING: Final = "reading"
# Below this many parameters (from the GGUF's tensors) document answers are weak: the
# 135M default cited sources it was not given and missed answers that were in them.
SMALL_MODEL_PARAMS = 1_000_000_000


@dataclass(frozen=True)
class Step:
    """A step of a document answer: searching `count` collections, or reading `count`
    passages (0: none found, the model answers without them)."""

    kind: StepKind
    count: int

    def describe(self) -> str:
        """'Searching 3 collections…', 'Reading 5 passages…'."""
        if self.kind == SEARCHING:
            return f"Searching {_plural(self.count, 'collection')}…"
        if self.count == 0:
            return "No passages found; answering without them…"
        return f"Reading {_plural(self.count, 'passage')}…"


StepListener = Callable[[Step], None]
_listener: ContextVar[StepListener | None] = ContextVar("carrel_answer_step", default=None)


@contextmanager
def reporting(listener: StepListener) -> Iterator[None]:
    """Send the steps of the replies this thread starts to `listener` while inside."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report(step: Step) -> None:
    """Tell the calling thread's listener, if it has one."""
    listener = _listener.get()
    if listener is not None:
        listener(step)


Search = Callable[[str, str, int], list[Citation]]


def search(find: Search, collections: list[str], text: str, k: int) -> list[Citation]:
    """The best `k` passages for `text` from `collections` (`find(text, collection, k)`
    searches one), the search and the reading told to the thread's listener."""
    if not collections:
        return []
    report(Step(SEARCHING, len(collections)))
    hits = [c for name in collections for c in find(text, name, k)]
    if len(collections) > 1:  # one collection's order stays its own (a reranker's)
        hits.sort(key=lambda c: -c.score)
    report(Step(READING, len(hits[:k])))
    return hits[:k]


def small_model_note(info: ModelInfo | None) -> str:
    """A note for a document answer by a model under ~1B parameters ('' otherwise)."""
    if info is None or not 0 < info.n_params < SMALL_MODEL_PARAMS:
        return ""
    size = f"{info.n_params / 1e6:.0f}M"
    return (
        f"{info.name} has {size} parameters: answers from documents by a model this small "
        "are often wrong or cite the wrong source. Models → Catalog lists larger ones "
        "(1B parameters and up answer from documents far better)."
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
