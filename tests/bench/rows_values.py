"""Table rows embedded without their column names (issue 16, fifteenth round; RULES.md): a
CSV row's line `name: value; name: value…` becomes `value; value…` (split at `; ` and at
each pair's first `: `) before its pieces are cut and embedded as shipped; the passage's
text, BM25 and citations keep the labels. `bench_rag_eval --records values` runs it:
`passages.RECORDS` "sentences" with `values` in place of `passages.sentences`.
"values-labelled" (`--records values-labelled`) puts in front of each piece, where a
passage's heading line goes, one line naming the passage's columns once."""

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


def columns(text: str) -> list[str]:
    """The column names of a passage's rows, in order of first appearance."""
    pairs = (p for line in text.split("\n") for p in line.split("; ") if ": " in p)
    return list(dict.fromkeys(n for n in (p.split(": ", 1)[0] for p in pairs) if n))


def values(chunk: Chunk, labelled: bool = False) -> list[str]:
    """The pieces `sentences` cuts from a passage of rows, each row without its labels
    (and with `labelled`, the passage's column names once in front of each piece)."""
    lines = chunk.text.split("\n")
    text = "\n".join(unlabelled(line) for line in lines)
    heading = chunk.heading
    if labelled:
        heading = ("columns: " + ", ".join(columns(chunk.text)),)
    return sentences(dataclasses.replace(chunk, text=text, heading=heading))


def labelled_values(chunk: Chunk) -> list[str]:
    return values(chunk, labelled=True)


@contextmanager
def rows_as_values(labelled: bool = False) -> Iterator[None]:
    """Passages of rows embedded as `values` (or `labelled_values`) while inside."""
    shipped = passages.sentences
    passages.sentences = labelled_values if labelled else values  # type: ignore[assignment]
    try:
        yield
    finally:
        passages.sentences = shipped  # type: ignore[assignment]
