"""`Evaluation`: the one service the faces use to evaluate on the person's own work.

Built over a Workbench (`Evaluation(workbench)`); it attaches the usage log to the
Workbench's replies, and offers test sets (create, import, export, draft), runs (create,
execute or resume, cancel through the job), reports, perplexity, blind review and the
routing policy. Blocking calls (`draft`, `RunJob.execute`, `perplexity`) belong on a
worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.evaluate.contestants import Contestant
from app.evaluate.errors import EvaluateError
from app.evaluate.review import Reviews, win_rates
from app.evaluate.runs import Run, Runs
from app.evaluate.setfiles import read_items, write_items
from app.evaluate.sets import TestSet, TestSets
from app.evaluate.usage import UsageLog

if TYPE_CHECKING:
    # Imported where used: the window builds an Evaluation at start-up (the usage log),
    # before anyone drafts, runs or reports.
    from app.evaluate import perplexity as ppl
    from app.evaluate import routing
    from app.evaluate.report import Report
    from app.evaluate.runner import RunJob, RunProgress
    from app.workbench import Workbench


class Evaluation:
    """Test sets, runs, reports, perplexity, review, routing and usage over one Workbench."""

    def __init__(self, workbench: Workbench) -> None:
        self.wb = workbench
        self.sets = TestSets(workbench.store)
        self.runs = Runs(workbench.store)
        self.usage = UsageLog(workbench.store)
        self.usage.attach(workbench)

    # test sets ---------------------------------------------------------------------------

    def import_set(self, name: str, path: Path, collection: str = "") -> TestSet:
        """A new set from a CSV or JSONL file; a bad file imports nothing."""
        items = read_items(path)
        self._check_collection(collection)
        test_set = self.sets.create(name, collection)
        self.sets.add(test_set, items)
        return self.sets.get(name)

    def export_set(self, name: str, path: Path) -> int:
        return write_items(self.sets.get(name), path)

    def draft(
        self,
        name: str,
        collection: str,
        model: str,
        n: int,
        *,
        seed: int = 0,
        on_item: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> TestSet:
        """Draft `n` questions into set `name` (made if new) from `collection` with `model`."""
        self._check_collection(collection)
        try:
            test_set = self.sets.get(name)
        except EvaluateError:
            test_set = self.sets.create(name, collection)
        from app.evaluate import draft as drafting

        drafting.draft_set(
            self.wb, test_set, model, n, seed=seed, on_item=on_item, cancelled=cancelled
        )
        return self.sets.get(name)

    def _check_collection(self, collection: str) -> None:
        if collection and self.wb.documents.collection(collection) is None:
            raise EvaluateError(
                f"There is no collection '{collection}'. 'carrel docs list' shows them."
            )

    # runs --------------------------------------------------------------------------------

    def create_run(
        self,
        set_name: str,
        contestants: list[Contestant | str],
        *,
        params: dict[str, Any] | None = None,
        judge: str = "",
        judge_prompt: str = "",
        name: str = "",
    ) -> Run:
        test_set = self.sets.get(set_name)
        if not test_set.usable():
            raise EvaluateError(
                f"The test set '{set_name}' has no accepted question; accept some first."
            )
        parsed = [c if isinstance(c, Contestant) else Contestant.parse(c) for c in contestants]
        if not parsed:
            raise EvaluateError("A run needs at least one contestant.")
        if len({c.key for c in parsed}) != len(parsed):
            raise EvaluateError("The same contestant is listed twice.")
        for c in parsed:
            if c.is_remote:
                self.wb.privacy.endpoint(c.name)
            else:
                self.wb.registry.resolve(c.name)
        settings: dict[str, Any] = {"params": params or {}}
        if judge:
            settings["judge"] = judge
            from app.evaluate.runner import JUDGE_PROMPT

            settings["judge_prompt"] = judge_prompt or JUDGE_PROMPT
        return self.runs.create(test_set.id, parsed, settings, name)

    def job(self, run_id: int, on_progress: Callable[[RunProgress], None] | None = None) -> RunJob:
        """The job that runs (or resumes) run `run_id`: `execute()` it on a worker."""
        from app.evaluate.runner import RunJob

        return RunJob(self.wb, self.runs.get(run_id), on_progress)

    def set_price(self, endpoint: str, input_per_mtok: float, output_per_mtok: float) -> None:
        self.wb.privacy.endpoint(endpoint)
        self.runs.set_price(endpoint, input_per_mtok, output_per_mtok)

    # reports -----------------------------------------------------------------------------

    def report(
        self,
        run_id: int,
        *,
        perplexities: list[ppl.Perplexity] | None = None,
        max_latency_ms: float | None = None,
        max_cost: float | None = None,
    ) -> Report:
        from app.evaluate import routing
        from app.evaluate.report import Report
        from app.evaluate.summary import summarise

        run = self.runs.get(run_id)
        test_set = self.sets.by_id(run.set_id)
        results = self.runs.results(run_id)
        tasks = {i.id: i.task for i in test_set.items}
        summaries = summarise(results, tasks)
        rules = routing.suggest(summaries, max_latency_ms, max_cost)
        return Report(
            run,
            test_set,
            summaries,
            results,
            win_rates(self.wb.store, run_id),
            perplexities or [],
            rules,
        )

    def apply_routes(self, rules: list[routing.Rule]) -> None:
        from app.evaluate import routing

        routing.apply(self.wb, rules)

    # perplexity --------------------------------------------------------------------------

    def perplexity(
        self,
        model: str,
        collection: str,
        *,
        passages: int = 16,
        seed: int = 0,
        on_model: Callable[[ppl.Perplexity], None] | None = None,
    ) -> list[ppl.Perplexity]:
        """Each installed quant level of `model` over the same sample of `collection`."""
        from app.evaluate import perplexity as ppl
        from app.evaluate.passages import sample_passages

        self._check_collection(collection)
        texts = [p.text for p in sample_passages(self.wb.documents, collection, passages, seed)]
        family = ppl.quant_family(self.wb.registry, model)
        return ppl.measure(family, texts, on_model=on_model)

    # review ------------------------------------------------------------------------------

    def reviews(self, run_id: int, seed: int | None = None) -> Reviews:
        self.runs.get(run_id)
        return Reviews(self.wb.store, run_id, seed)
