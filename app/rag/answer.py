"""Answers from a collection: the prompt numbers its sources and asks for [n] citations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.backend import ChatMessage, Done, Generation
from app.rag.retrieve import Citation

# Passages given to the model; five passages of ≤230 words fit a 4k context with room.
ANSWER_SOURCES = 5
MAX_SOURCE_CHARS = 1_600

SYSTEM = (
    "You answer questions using only the numbered sources given. After each statement, "
    "cite the source it comes from as [n]. If the sources do not contain the answer, say "
    "that you could not find it in the documents."
)


def build_messages(question: str, citations: list[Citation]) -> list[ChatMessage]:
    """The system instruction and one user message holding the numbered sources."""
    blocks = []
    for n, c in enumerate(citations, start=1):
        text = c.text if len(c.text) <= MAX_SOURCE_CHARS else c.text[:MAX_SOURCE_CHARS] + "…"
        blocks.append(f"[{n}] ({c.where})\n{text}")
    sources = "\n\n".join(blocks) if blocks else "(no sources found)"
    user = f"Sources:\n\n{sources}\n\nQuestion: {question}\nAnswer with citations like [1]."
    return [ChatMessage("system", SYSTEM), ChatMessage("user", user)]


@dataclass
class Answer:
    """A model's answer and the numbered sources it was given."""

    answer: str
    model: str
    citations: list[Citation] = field(default_factory=list)
    stopped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "model": self.model,
            "citations": [
                {
                    "n": n,
                    "source": c.source,
                    "page": c.page,
                    "page_end": c.page_end,
                    "heading": c.heading,
                    "text": c.text,
                }
                for n, c in enumerate(self.citations, start=1)
            ],
        }

    def cited(self) -> list[int]:
        """The source numbers the answer actually cites."""
        return [n for n in range(1, len(self.citations) + 1) if f"[{n}]" in self.answer]


def answer(
    question: str,
    citations: list[Citation],
    complete: Callable[[list[ChatMessage]], Generation],
) -> Answer:
    """Run the prompt through `complete` (e.g. `Workbench.complete`) to its end."""
    done: Done | None = None
    for event in complete(build_messages(question, citations)):
        if isinstance(event, Done):
            done = event
    assert done is not None
    return Answer(done.text.strip(), done.stats.model, citations, done.stats.stopped)
