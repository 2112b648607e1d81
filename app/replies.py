"""What a reply becomes: `Reply`, a conversation's reply streaming into the store, and
`Answer`, a one-off answer from a collection (`carrel ask`) with its numbered sources."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from app.citation import Citation
from app.engine.backend import Done, Event, Generation, GenerationParams, GenerationStats
from app.markers import CheckedAnswer, check_answer
from app.store import AFTER_LEAF, Message, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyEnd:
    """How a conversation reply ended, for usage instrumentation: its figures (who
    answered, tokens, times) or, when it failed, the error's kind and message."""

    conversation_id: int
    stats: GenerationStats | None
    failure: str = ""
    detail: str = ""


class Reply(Iterator[Event]):
    """A reply streaming into a conversation. Iterate it for events; `cancel()` from any
    thread stops it between tokens. When it ends, the assistant message (partial and
    marked stopped if cancelled) is written to the store after message `parent_id`, with
    the numbered sources the model was given, before `Done` is returned.

    A reply that `continues` a stopped one is written into that message instead, and its
    `Done` carries the whole text, the old part and the new."""

    def __init__(
        self,
        store: Store,
        conversation_id: int,
        generation: Generation,
        params: GenerationParams,
        citations: list[Citation] | None = None,
        parent_id: int | None = AFTER_LEAF,
        continues: Message | None = None,
    ) -> None:
        self._store = store
        self._parent_id = parent_id
        self.continues = continues
        self.conversation_id = conversation_id
        self._generation = generation
        self._params = params
        self.citations = citations or []
        self.message: Message | None = None
        # Told once when the reply ends, finished, stopped or failed (the Workbench's).
        self.listeners: list[Callable[[ReplyEnd], None]] = []

    def cancel(self) -> None:
        self._generation.cancel()

    def __iter__(self) -> Reply:
        return self

    def __next__(self) -> Event:
        try:
            event = next(self._generation)
        except StopIteration:
            raise
        except Exception as exc:
            self._tell(ReplyEnd(self.conversation_id, None, type(exc).__name__, str(exc)))
            raise
        if isinstance(event, Done):
            answered = getattr(self._generation, "answered_by", None)
            if answered is not None:
                event.stats.model = answered.model
                event.stats.endpoint = answered.endpoint
                event.stats.badge = answered.badge
                event.stats.fallback_reason = answered.fallback_reason
            stats = event.stats.as_dict()
            if self.citations:
                stats["citations"] = [c.to_record() for c in self.citations]
            if self.continues is not None:
                return self._continued(self.continues, event, stats)
            self.message = self._store.add_message(
                self.conversation_id,
                "assistant",
                event.text,
                model=event.stats.model,
                params=self._params.as_dict(),
                stats=stats,
                stopped=event.stats.stopped,
                parent_id=self._parent_id,
            )
            self._tell(ReplyEnd(self.conversation_id, event.stats))
        return event

    def _tell(self, end: ReplyEnd) -> None:
        """Instrumentation must never break a reply: a listener's error is logged."""
        for listener in list(self.listeners):
            try:
                listener(end)
            except Exception:
                log.exception("a reply listener failed")

    def _continued(self, before: Message, done: Done, stats: dict[str, Any]) -> Done:
        whole = Done(before.text + done.text, done.stats)
        stopped = done.stats.stopped
        self._store.update_message(before.id, text=whole.text, stats=stats, stopped=stopped)
        self.message = replace(before, text=whole.text, stats=stats, stopped=stopped)
        return whole


@dataclass
class Answer:
    """A model's answer and the numbered sources it was given."""

    answer: str
    model: str
    citations: list[Citation] = field(default_factory=list)
    stopped: bool = False

    @classmethod
    def of(cls, generation: Generation, citations: list[Citation]) -> Answer:
        """Run `generation` to its end."""
        done: Done | None = None
        for event in generation:
            if isinstance(event, Done):
                done = event
        assert done is not None
        return cls(done.text.strip(), done.stats.model, citations, done.stats.stopped)

    def checked(self) -> CheckedAnswer:
        """The answer with its markers as the source numbers, and its links checked."""
        return check_answer(self.answer, self.citations)

    def as_dict(self) -> dict[str, Any]:
        """The answer with normalised markers (`answer`; as the model wrote it in
        `answer_as_written`), what they cite, the links, and the sources."""
        checked = self.checked()
        return {
            "answer": checked.text,
            "answer_as_written": self.answer,
            **checked.as_dict(),
            "model": self.model,
            "citations": [
                {
                    "n": c.n,
                    "source": c.source,
                    "page": c.page,
                    "page_end": c.page_end,
                    "heading": c.heading,
                    "text": c.text,
                }
                for c in self.citations
            ],
        }
