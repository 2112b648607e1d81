"""What a model is asked, put together in one place.

A `Prompt` is a reply's request before it goes anywhere: the conversation as the person
wrote it (system prompt first, the new message last) and the numbered passages
(`Citation`s) the new message is grounded in. `parts()` lays it out as the model will
read it, and is the one place passages go into messages, once: numbered in the last user
message, with the citing instruction added to the system prompt. The on-device model is
sent `messages()`; the egress gate redacts each part, shows the parts to the person as the
request's preview, and sends the same messages of the redacted parts (`join`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from app.citation import Citation

Role = Literal["system", "user", "assistant"]

# Passages given to the model; five passages of ≤230 words fit a 4k context with room.
ANSWER_SOURCES = 5
MAX_SOURCE_CHARS = 1_600

SYSTEM = (
    "You answer questions using only the numbered sources given. After each statement, "
    "cite the source it comes from as [n]. If the sources do not contain the answer, say "
    "that you could not find it in the documents."
)


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation as a model reads it."""

    role: Role
    content: str


@dataclass(frozen=True)
class Part:
    """A labelled piece of a prompt as it is sent ("system prompt", "user", "passage 2 ·
    contracts"): the message it belongs to (`index`), that message's role, and its text.
    A message is its parts' texts joined."""

    label: str
    index: int
    role: Role
    text: str


@dataclass(frozen=True)
class Prompt:
    """A conversation and the passages its newest message is grounded in. `grounded`
    asks for the sources format even when no passage was found (a question asked of a
    collection); by default a prompt is grounded when it has passages."""

    conversation: Sequence[ChatMessage]
    passages: Sequence[Citation] = field(default=())
    grounded: bool | None = None

    @classmethod
    def asking(
        cls,
        conversation: Sequence[ChatMessage],
        citations: Sequence[Citation],
        *,
        grounded: bool | None = None,
    ) -> Prompt:
        """The conversation with `citations` as its numbered sources, in order from 1."""
        numbered = [c.numbered(n) for n, c in enumerate(citations, start=1)]
        return cls(list(conversation), numbered, grounded)

    @property
    def is_grounded(self) -> bool:
        return bool(self.passages) if self.grounded is None else self.grounded

    def parts(self) -> list[Part]:
        """The prompt as the model reads it, in labelled pieces (see the module)."""
        messages = list(self.conversation)
        if not self.is_grounded:
            return [Part(_label(i, m), i, m.role, m.content) for i, m in enumerate(messages)]
        question = ""
        if messages and messages[-1].role == "user":
            question = messages.pop().content
        if messages and messages[0].role == "system":
            system = f"{messages.pop(0).content}\n\n{SYSTEM}"
        else:
            system = SYSTEM
        parts = [Part("system prompt", 0, "system", system)]
        parts += [Part(m.role, i, m.role, m.content) for i, m in enumerate(messages, start=1)]
        asked = len(messages) + 1
        for i, c in enumerate(self.passages):
            text = c.text if len(c.text) <= MAX_SOURCE_CHARS else c.text[:MAX_SOURCE_CHARS] + "…"
            lead = "Sources:\n\n" if i == 0 else "\n\n"
            label = f"passage {c.n} · {c.collection}" if c.collection else f"passage {c.n}"
            parts.append(Part(label, asked, "user", f"{lead}[{c.n}] ({c.where})\n{text}"))
        lead = "\n\n" if self.passages else "Sources:\n\n(no sources found)\n\n"
        tail = f"{lead}Question: {question}\nAnswer with citations like [1]."
        parts.append(Part("user", asked, "user", tail))
        return parts

    def messages(self) -> list[ChatMessage]:
        """The messages a model is given: each passage in them once."""
        return join(self.parts())


def redact_parts(parts: Sequence[Part], redact: Callable[[str], str]) -> list[Part]:
    """The parts with each text passed through `redact` (the gate's redactor)."""
    return [replace(p, text=redact(p.text)) for p in parts]


def join(parts: Sequence[Part]) -> list[ChatMessage]:
    """The messages the parts make up, in order."""
    messages: list[ChatMessage] = []
    index = None
    for p in parts:
        if p.index == index:
            messages[-1] = ChatMessage(p.role, messages[-1].content + p.text)
        else:
            messages.append(ChatMessage(p.role, p.text))
            index = p.index
    return messages


def _label(index: int, message: ChatMessage) -> str:
    return "system prompt" if message.role == "system" and index == 0 else message.role
