"""A suggested routing policy: for each task, the contestant with the best quality whose
mean latency (or cost per answer) stays under the person's bound; applied in one action.

Applying keeps the rules in `eval_routing` and sets the routes new conversations take
(`Workbench.new_conversation` reads them from the settings): when the default task's
winner is local, it becomes the default model, answering on the device only, with its
load settings kept for it in the library; when it is a remote endpoint, new conversations
go to that endpoint first (still through the privacy gate: consent, redaction, the
ledger) and to the local model when it fails. Conversations carry no task, so they all
take the default task's rule; `route_params(task)` gives a task's own rule as conversation
parameters, and the rules of every task are kept and shown.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.evaluate.contestants import Contestant
from app.evaluate.errors import EvaluateError
from app.evaluate.summary import Summary

if TYPE_CHECKING:
    from app.workbench import Workbench


@dataclass(frozen=True)
class Rule:
    """For `task` ("" for every task), answer with `contestant`; `why` says how it won."""

    task: str
    contestant: str
    bound: str
    why: str

    def describe(self) -> str:
        task = self.task or "every task"
        return f"{task}: {Contestant.parse(self.contestant).describe()} — {self.why}"


def suggest(
    summaries: list[Summary], max_latency_ms: float | None = None, max_cost: float | None = None
) -> list[Rule]:
    """One rule per task: the best quality under the bounds (ties: the faster)."""
    bound = []
    if max_latency_ms is not None:
        bound.append(f"latency ≤ {max_latency_ms:.0f} ms")
    if max_cost is not None:
        bound.append(f"cost ≤ {max_cost:g} per answer")
    tasks = sorted({s.task for s in summaries})
    rules = []
    for task in tasks:
        fits = [
            s
            for s in summaries
            if s.task == task
            and s.answers
            and (max_latency_ms is None or (s.total_ms or 0) <= max_latency_ms)
            and (max_cost is None or s.cost / s.answers <= max_cost)
        ]
        if not fits:
            continue
        best = max(fits, key=lambda s: (s.quality or 0.0, -(s.total_ms or 0.0)))
        why = f"quality {best.quality or 0:.2f}, {(best.total_ms or 0) / 1000:.1f} s mean"
        rules.append(Rule(task, best.contestant, ", ".join(bound), why))
    return rules


def apply(workbench: Workbench, rules: list[Rule]) -> None:
    """Make `rules` the routes (see the module): one action, all or nothing in the store."""
    if not rules:
        raise EvaluateError("No contestant meets the bound; loosen it to suggest a route.")
    with workbench.store.transaction() as db:
        db.execute("DELETE FROM eval_routing")
        for r in rules:
            db.execute(
                "INSERT INTO eval_routing (task, contestant, bound, applied_at)"
                " VALUES (?, ?, ?, ?)",
                (r.task, r.contestant, r.bound, time.time()),
            )
    default = next((r for r in rules if r.task == ""), rules[0])
    c = Contestant.parse(default.contestant)
    if c.is_remote:  # new conversations ask the endpoint first, the local model after
        workbench.change_settings("model", route="remote-first", remote=c.name)
        return
    workbench.change_settings("model", default=c.name, route="local-only", remote="")
    if c.load_overrides():
        base = workbench.load_options(c.name)
        workbench.library.save_load_options(c.name, base.with_changes(c.load_overrides()))


def applied(workbench: Workbench) -> list[Rule]:
    return [
        Rule(r["task"], r["contestant"], r["bound"], "applied")
        for r in workbench.store.query("SELECT * FROM eval_routing ORDER BY task")
    ]


def route_params(workbench: Workbench, task: str = "") -> dict[str, Any]:
    """The conversation parameters the applied policy gives a conversation for `task`."""
    rules = {r.task: r for r in applied(workbench)}
    rule = rules.get(task) or rules.get("")
    if rule is None:
        return {}
    c = Contestant.parse(rule.contestant)
    if c.is_remote:
        return {"route": "remote-first", "remote": c.name}
    params: dict[str, Any] = {"route": "local-only"}
    if c.load_overrides():
        params["load"] = json.loads(json.dumps(c.load_overrides()))
    return params
