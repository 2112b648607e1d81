"""Answers from collections: the request's messages grounded in numbered passages.

Retrieval and the prompt's layout are the core's (`Documents.search`, the prompt module);
this module only picks the best passages over the named collections and says how they are
returned to the client: `citations`, numbered as the model was told to cite them.
"""

from __future__ import annotations

from typing import Any

from app.engine.backend import ChatMessage
from app.rag.answer import ANSWER_SOURCES, build_messages
from app.rag.retrieve import Citation
from app.workbench import Workbench

Hit = tuple[str, Citation]


def retrieve(wb: Workbench, collections: list[str], question: str) -> list[Hit]:
    """The best passages for `question` over `collections` (blocking)."""
    hits = [
        (name, c)
        for name in collections
        for c in wb.documents.search(question, name, ANSWER_SOURCES)
    ]
    hits.sort(key=lambda hit: -hit[1].score)
    return hits[:ANSWER_SOURCES]


def grounded(messages: list[ChatMessage], hits: list[Hit]) -> list[ChatMessage]:
    """The messages with the newest one replaced by the numbered sources and the question,
    and the citing instruction added to the system prompt."""
    question = messages[-1].content
    instruction, sources = build_messages(question, [c for _, c in hits])
    head = messages[:-1]
    if head and head[0].role == "system":
        system = ChatMessage("system", f"{head[0].content}\n\n{instruction.content}")
        head = head[1:]
    else:
        system = instruction
    return [system, *head, sources]


def citation_json(n: int, collection: str, c: Citation) -> dict[str, Any]:
    """One passage as a client reads it: number, collection, file, pages, offsets, scores."""
    out = {
        "n": n,
        "collection": collection,
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
