"""Everyday replies are recorded (model, route, latency, tokens, failure) and summed up;
the suggested routing policy is applied in one action."""

from __future__ import annotations

import csv
import io

import pytest

from app.engine.backend import Done
from app.errors import NoModelLoadedError, SettingsError
from app.evaluate import routing
from app.evaluate.service import Evaluation
from app.evaluate.summary import Summary
from app.workbench import Workbench
from tests.evaluate.conftest import GEMMA, SMOL

pytestmark = pytest.mark.slow


def test_every_reply_is_recorded(workbench: Workbench) -> None:
    ev = Evaluation(workbench)
    Evaluation(workbench)  # a second service over it does not record twice
    c = workbench.new_conversation()
    with pytest.raises(NoModelLoadedError):
        list(workbench.reply(c.id, "Hi", {"max_tokens": 4}))
    workbench.load_model(SMOL)
    done = list(workbench.reply(c.id, "Hi", {"max_tokens": 6, "seed": 1}))[-1]
    assert isinstance(done, Done)
    [row] = ev.usage.summary("day")
    assert (row.model, row.route, row.replies, row.failures) == (SMOL, "local-only", 1, 0)
    assert row.tokens_out == done.stats.completion_tokens and row.mean_ms > 0
    lines = list(csv.DictReader(io.StringIO(ev.usage.export_csv())))
    assert len(lines) == 1 and lines[0]["model"] == SMOL and lines[0]["failure"] == ""


def test_a_failed_reply_is_recorded_with_its_kind(workbench: Workbench) -> None:
    ev = Evaluation(workbench)
    workbench.load_model(SMOL)
    c = workbench.new_conversation()
    reply = workbench.reply(c.id, "Hi", {"max_tokens": 4})
    workbench.unload()  # the model goes away under the reply: it ends, stopped or failed
    list(reply)
    assert ev.usage.summary()[0].replies == 1


def summary(who: str, task: str, quality: float, ms: float, cost: float = 0.0) -> Summary:
    return Summary(who, task, 10, 0, 100, ms, 50, 100, 100, None, cost, 1, 1, quality, None, None)


def test_the_suggested_routes_apply_in_one_action(workbench: Workbench) -> None:
    Evaluation(workbench)
    fast, good = f"local:{SMOL}?ctx=2048&k=3&mode=hybrid", f"local:{GEMMA}?k=4&mode=hybrid"
    rows = [
        summary(fast, "", 0.6, 900),
        summary(good, "", 0.8, 3000),
        summary("remote:team?k=4&mode=hybrid", "", 0.9, 1500, cost=0.5),
    ]
    rules = routing.suggest(rows, max_latency_ms=2000, max_cost=0.01)
    assert [r.contestant for r in rules] == [fast]
    assert [r.contestant for r in routing.suggest(rows)] == ["remote:team?k=4&mode=hybrid"]
    assert not routing.suggest(rows, max_latency_ms=100)
    routing.apply(workbench, rules)
    assert workbench.settings.model.default == SMOL
    assert workbench.load_options(SMOL).context_length == 2048
    assert routing.route_params(workbench, "anything") == {
        "route": "local-only",
        "load": {"context_length": 2048},
    }


def test_applied_routes_are_how_new_conversations_are_answered(workbench: Workbench) -> None:
    Evaluation(workbench)
    before = workbench.new_conversation()
    assert before.params.get("route", "local-only") == "local-only"
    remote = "remote:team?k=4&mode=hybrid"
    routing.apply(workbench, routing.suggest([summary(remote, "", 0.9, 1500, cost=0.5)]))
    c = workbench.new_conversation()
    assert (c.params["route"], c.params["remote"]) == ("remote-first", "team")
    assert workbench.store.conversation(before.id).params == before.params  # old ones kept
    local = f"local:{SMOL}?ctx=2048&k=3&mode=hybrid"
    routing.apply(workbench, routing.suggest([summary(local, "", 0.6, 900)]))
    assert workbench.new_conversation().params.get("route", "local-only") == "local-only"
    assert workbench.settings.model.default == SMOL


def test_a_route_the_settings_do_not_know_is_refused(workbench: Workbench) -> None:
    with pytest.raises(SettingsError, match=r"model\.route"):
        workbench.change_settings("model", route="anywhere")
    assert workbench.settings.model.route == "local-only"
