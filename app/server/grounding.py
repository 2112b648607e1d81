"""Answers from collections: the request's messages grounded in numbered passages.

Retrieval and the prompt's layout are the core's (`Documents.search`, `app.prompt`): this
module only picks the best passages over the named collections and says how they are
returned to the client: `citations`, numbered as the model was told to cite them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.citation import Citation
from app.prompt import ANSWER_SOURCES, ChatMessage, Prompt
from app.workbench import Workbench


def retrieve(wb: Workbench, collections: list[str], question: str) -> list[Citation]:
    """The best passages for `question` over `collections` (blocking), each knowing its
    collection."""
    hits = [
        c if c.collection else replace_collection(c, name)
        for name in collections
        for c in wb.documents.search(question, name, ANSWER_SOURCES)
    ]
    hits.sort(key=lambda c: -c.score)
    return hits[:ANSWER_SOURCES]


def grounded(
    messages: list[ChatMessage], hits: list[Citation]
) -> tuple[list[ChatMessage], list[Citation]]:
    """The messages as the model reads them (the newest one with the numbered sources, the
    citing instruction in the system prompt) and the passages, numbered from 1."""
    prompt = Prompt.asking(messages, hits, grounded=True)
    return prompt.messages(), list(prompt.passages)


def citation_json(c: Citation, n: int | None = None) -> dict[str, Any]:
    """One passage as a client reads it: number, collection, file, pages, offsets, scores."""
    out = {
        "n": n if n is not None else c.n,
        "collection": c.collection,
        "file": c.source,
        "page": c.page,
        "page_end": c.page_end,
        "heading": c.heading,
        "start": c.start,
        "end": c.end,
        "score": round(c.score, 6),
        "text": c.text,
    }
    if c.rerank is not None:
        out["rerank_score"] = round(c.rerank, 6)
    return out


def replace_collection(c: Citation, name: str) -> Citation:
    """`c` marked as from collection `name`."""
    return dataclasses.replace(c, collection=name)
