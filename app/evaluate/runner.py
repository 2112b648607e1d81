"""`RunJob`: answers a run's test set with each contestant, item by item, and keeps each
answer with its figures as soon as it is made.

Everything goes through the Workbench as a chat reply does: a local contestant is loaded
with `Workbench.load_model` (its owner thread, closed before the next loads) and asked
with `Workbench.complete`; a remote one through `Workbench.remote_backend`, i.e. the
egress gate, the person's consent and the ledger (one conversation per remote contestant
and run, so "approve for this conversation" covers the run). Retrieval is the collection's
own `Documents.search` with the contestant's top-k and mode.

A killed run is resumed by running it again: the (item, contestant) pairs in the results
table are not redone. `cancel()` stops between items (and the answer in progress, which
is not kept). Progress and an ETA are told after each item (`RunProgress`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.citation import Citation
from app.engine.backend import Done, Generation, GenerationParams
from app.engine.constraints import Constraints
from app.errors import CarrelError, ReplyInProgressError
from app.evaluate import metrics as m
from app.evaluate.contestants import Contestant
from app.evaluate.memory import PeakMemory
from app.evaluate.runs import METRICS, Result, Run, Runs
from app.evaluate.sets import Item, TestSet, TestSets
from app.prompt import ChatMessage, Prompt

if TYPE_CHECKING:
    from app.workbench import Workbench

log = logging.getLogger(__name__)

# A run answers briefly and reproducibly unless its settings say otherwise.
DEFAULT_PARAMS: dict[str, Any] = {"temperature": 0.0, "seed": 1, "max_tokens": 128}
JUDGE_PROMPT = (
    "You grade answers. Question: {question}\nReference answer: {expected}\n"
    "Answer to grade: {answer}\nDoes the answer agree with the reference? Reply with one "
    "digit from 1 (wrong) to 5 (fully correct)."
)
GRADE = Constraints(grammar="root ::= [1-5]")
# Remote endpoints do not report prompt tokens when streaming: ~4 characters a token.
CHARS_PER_TOKEN = 4
# Seconds between two looks at a reply of the person's that a contestant's load waits for.
WAIT_FOR_REPLY_S = 0.1


@dataclass(frozen=True)
class RunProgress:
    """Where a run is: `done` of `total` answers, the contestant at work, the seconds
    left by the pace so far (None before the first answer), and the answer just kept."""

    run_id: int
    done: int
    total: int
    contestant: str
    eta_s: float | None
    last: Result | None = None

    def describe(self) -> str:
        eta = f", about {_duration(self.eta_s)} left" if self.eta_s is not None else ""
        return f"{self.done}/{self.total} answers{eta} ({self.contestant})"


class RunJob:
    """One run, executed on the calling (worker) thread; `cancel()` from any thread."""

    def __init__(
        self,
        workbench: Workbench,
        run: Run,
        on_progress: Callable[[RunProgress], None] | None = None,
    ) -> None:
        self.wb = workbench
        self.run = run
        self.on_progress = on_progress
        self.runs = Runs(workbench.store)
        self.test_set: TestSet = TestSets(workbench.store).by_id(run.set_id)
        self._cancel = threading.Event()
        self._current: Generation | None = None
        self.params = GenerationParams.from_settings(
            workbench.settings.sampling, {**DEFAULT_PARAMS, **run.settings.get("params", {})}
        )

    def cancel(self) -> None:
        self._cancel.set()
        current = self._current
        if current is not None:
            current.cancel()

    def stopped(self) -> bool:
        """Was the run cancelled (asked again at each step: another thread may do it)."""
        return self._cancel.is_set()

    def execute(self) -> str:
        """Answer every item not yet answered; returns "finished" or "cancelled"."""
        items = self.test_set.usable()
        done = self.runs.done(self.run.id)
        total = len(items) * len(self.run.contestants)
        count = sum(1 for i in items for c in self.run.contestants if (i.id, c.key) in done)
        self.runs.set_status(self.run.id, "running")
        before = self.wb.backend
        restore = (before.info.name, before.options.kept()) if before is not None else None
        started, made = time.monotonic(), 0
        try:
            for c in self.run.contestants:
                todo = [i for i in items if (i.id, c.key) not in done]
                if not todo or self.stopped():
                    continue
                self._prepare(c)
                for item in todo:
                    if self.stopped():
                        break
                    result = self._answer(c, item)
                    if result is None:  # cancelled mid-answer: not kept, redone on resume
                        break
                    self.runs.save(result)
                    count, made = count + 1, made + 1
                    pace = (time.monotonic() - started) / made
                    self._tell(
                        RunProgress(
                            self.run.id, count, total, c.key, pace * (total - count), result
                        )
                    )
            if not self.stopped() and self.run.settings.get("judge"):
                self._judge(str(self.run.settings["judge"]))
        finally:
            loaded = self.wb.loaded_model
            if restore is not None and loaded is not None and loaded.name != restore[0]:
                self.wb.load_model(restore[0], overrides=restore[1])
        status = "cancelled" if self.stopped() else "finished"
        self.runs.set_status(self.run.id, status)
        return status

    # one contestant ----------------------------------------------------------------------

    def _prepare(self, c: Contestant) -> None:
        if c.is_remote:
            self.wb.remote_backend(c.name)  # an unknown endpoint says so before any item
            convs = dict(self.run.settings.get("conversations", {}))
            if c.key not in convs:
                title = f"Evaluation run {self.run.id} · {c.name}"
                convs[c.key] = self.wb.store.create_conversation(title=title).id
                self.run.settings["conversations"] = convs
                self.runs.update_settings(self.run.id, self.run.settings)
        else:
            # Loaded already as asked (the chat's model, a resumed run): no reload, whose
            # first reply would pay the warm-up again.
            name = self.wb.registry.resolve(c.name).name
            wanted = self.wb.load_options(name, c.load_overrides())
            backend = self.wb.backend
            if (
                backend is None
                or backend.info.name != name
                or replace(backend.options, warmup=False) != wanted
            ):
                self._load(name, c.load_overrides())

    def _load(self, name: str, overrides: dict[str, Any] | None = None) -> None:
        """Load a contestant's model once the person's reply in the window (if one is being
        written) has ended: a run never stops it."""
        while True:
            try:
                self.wb.load_model(name, overrides=overrides, interrupt=False)
                return
            except ReplyInProgressError:
                if self.stopped():
                    raise
                time.sleep(WAIT_FOR_REPLY_S)

    def _answer(self, c: Contestant, item: Item) -> Result | None:
        passages: list[Citation] = []
        collection = self.test_set.collection
        if c.top_k > 0 and collection:
            passages = self.wb.documents.search(
                item.question,
                collection,
                c.top_k,
                mode=c.mode,  # type: ignore[arg-type]
                reranker_name=c.reranker,
            )
        # Asked as a new conversation would be: the person's system prompt, then the question.
        system = self.wb.settings.model.system_prompt.strip()
        asked = [ChatMessage("system", system)] if system else []
        asked.append(ChatMessage("user", item.question))
        prompt = Prompt.asking(asked, passages, grounded=True)
        numbered = list(prompt.passages)
        figures: dict[str, Any] = dict.fromkeys(METRICS)
        try:
            with PeakMemory() as peak:
                done = self._generate(c, prompt)
        except CarrelError as exc:
            return Result(0, self.run.id, item.id, c.key, "", figures, numbered, exc.message)
        if done is None or (done.stats.stopped and self.stopped()):
            return None
        answer = done.text.strip()
        s = done.stats
        tokens_in = s.prompt_tokens
        if c.is_remote and not tokens_in:
            chars = sum(len(msg.content) for msg in prompt.messages())
            tokens_in = chars // CHARS_PER_TOKEN
            figures["tokens_in_estimated"] = True
        price = self.runs.price(c.name) if c.is_remote else None
        figures.update(
            ttft_ms=round(s.ttft_ms, 1),
            total_ms=round(s.total_ms, 1),
            tokens_per_s=round(s.tokens_per_s, 2),
            tokens_in=tokens_in,
            tokens_out=s.completion_tokens,
            peak_rss_mb=None if c.is_remote else peak.peak_mb,
            cost=m.cost(tokens_in, s.completion_tokens, price) if c.is_remote else 0.0,
            retrieval_hit=m.retrieval_hit(item, numbered) if c.top_k > 0 else None,
            citation_support=m.citation_support(item, answer, numbered),
            contains_expected=m.contains_expected(item, answer),
            similarity=self._similarity(answer, item.expected),
        )
        return Result(0, self.run.id, item.id, c.key, answer, figures, numbered)

    def _generate(self, c: Contestant, prompt: Prompt) -> Done | None:
        if c.is_remote:
            conv = self.run.settings.get("conversations", {}).get(c.key)
            gen = self.wb.remote_backend(c.name).stream(prompt, self.params, conversation_id=conv)
        else:
            gen = self.wb.complete(prompt.messages(), self.params)
        self._current = gen
        try:
            done: Done | None = None
            for event in gen:
                if isinstance(event, Done):
                    done = event
            return done
        finally:
            self._current = None

    def _similarity(self, answer: str, expected: str) -> float | None:
        """Cosine of the answer and the expected answer by the collection's own embedder."""
        if not expected or not answer or not self.test_set.collection:
            return None
        embedder = self.wb.documents.embedder_of(self.test_set.collection)
        a, b = embedder.embed([answer, expected])
        return round(m.cosine(a, b), 4)

    # judge -------------------------------------------------------------------------------

    def _judge(self, judge: str) -> None:
        """Score each answer that has an expected answer with the judge model, 0–1 from its
        1–5 grade; the prompt is kept in the run's settings, shown with the results."""
        prompt_text = str(self.run.settings.get("judge_prompt") or JUDGE_PROMPT)
        if "judge_prompt" not in self.run.settings:
            self.run.settings["judge_prompt"] = prompt_text
            self.runs.update_settings(self.run.id, self.run.settings)
        items = {i.id: i for i in self.test_set.items}
        todo = [
            r
            for r in self.runs.results(self.run.id)
            if r.metrics.get("judge") is None and not r.error and items[r.item_id].expected
        ]
        if not todo:
            return
        self._load(judge)
        params = GenerationParams.from_settings(
            self.wb.settings.sampling, {"temperature": 0.0, "seed": 1, "max_tokens": 4}
        )
        for r in todo:
            if self.stopped():
                return
            item = items[r.item_id]
            ask = prompt_text.format(
                question=item.question, expected=item.expected, answer=r.answer
            )
            backend = self.wb.backend
            if backend is None:
                return
            # A grammar makes the grade one digit, whatever the judge would have rambled.
            done = None
            for event in backend.stream([ChatMessage("user", ask)], params, GRADE):
                if isinstance(event, Done):
                    done = event
            digit = re.search(r"[1-5]", done.text if done else "")
            self.runs.set_metric(r.id, "judge", (int(digit.group()) - 1) / 4 if digit else None)

    def _tell(self, progress: RunProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
