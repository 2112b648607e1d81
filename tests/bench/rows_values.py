"""Table rows embedded without their column names (issue 16, fifteenth round; RULES.md): a
CSV row's line `name: value; name: value…` becomes `value; value…` (split at `; ` and at
each pair's first `: `) before its pieces are cut and embedded as shipped; the passage's
text, BM25 and citations keep the labels. `bench_rag_eval --records values` runs it:
`passages.RECORDS` "sentences" with `values` in place of `passages.sentences`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from app.rag import passages
from app.rag.chunker import Chunk
from app.rag.represent import sentences


def unlabelled(line: str) -> str:
    """A row's line without its column names."""
    return "; ".join(p.split(": ", 1)[1] if ": " in p else p for p in line.split("; "))


def values(chunk: Chunk) -> list[str]:
    """The pieces `sentences` cuts from a passage of rows, each row without its labels."""
    text = "\n".join(unlabelled(line) for line in chunk.text.split("\n"))
    return sentences(dataclasses.replace(chunk, text=text))


@contextmanager
def rows_as_values() -> Iterator[None]:
    """Passages of rows embedded as `values` while inside."""
    shipped = passages.sentences
    passages.sentences = values  # type: ignore[assignment]
    try:
        yield
    finally:
        passages.sentences = shipped  # type: ignore[assignment]
