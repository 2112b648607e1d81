"""A real run: SmolLM2 and Gemma 3 270M on this device and a remote endpoint on loopback
(llama-cpp-python's own server behind a recording proxy), over a small real collection
with gold passages placed in it; every figure present and plausible."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest

from app.engine.backend import Done, Token
from app.evaluate.runner import RunProgress
from app.evaluate.runs import METRICS
from app.evaluate.service import Evaluation
from app.privacy.gate import Consent
from app.privacy.keys import Keys
from app.privacy.ledger import Ledger
from app.privacy.policy import EndpointKind
from tests.evaluate.conftest import GEMMA, SMOL
from tests.support.consent import Answers
from tests.support.servers import REMOTE_API_KEY as API_KEY
from tests.support.servers import RecordingProxy

pytestmark = pytest.mark.slow

LOCALS = [f"local:{SMOL}?k=2", f"local:{GEMMA}?ctx=1024&kv=q8_0&k=2"]


def with_remote(ev: Evaluation, proxy: RecordingProxy) -> Answers:
    privacy = ev.wb.privacy
    privacy.add_endpoint("team", proxy.base_url, "smollm2", EndpointKind.SELF_HOSTED)
    privacy.use_vault(True)
    Keys.vault(Path(privacy.vault_path), "typed").set("team", API_KEY)
    ev.wb.vault_passphrase = "typed"
    privacy.set_enabled("team", True)
    answers = Answers(Consent.CONVERSATION)
    privacy.ask_with(answers)
    ev.set_price("team", 2.0, 8.0)
    return answers


def test_a_run_measures_every_contestant(evaluation: Evaluation, proxy: RecordingProxy) -> None:
    ev = evaluation
    answers = with_remote(ev, proxy)
    ev.wb.load_model(SMOL)
    run = ev.create_run("harbour", [*LOCALS, "remote:team?k=2"], params={"max_tokens": 24})
    seen: list[RunProgress] = []
    assert ev.job(run.id, seen.append).execute() == "finished"

    results = ev.runs.results(run.id)
    assert len(results) == 9 and not [r.error for r in results if r.error]
    assert [p.done for p in seen] == list(range(1, 10)) and seen[-1].eta_s == 0
    assert all(p.eta_s is not None and p.eta_s >= 0 for p in seen)
    for r in results:
        assert set(METRICS) <= set(r.metrics), r.metrics
        m = r.metrics
        assert m["total_ms"] > 0 and m["ttft_ms"] > 0 and m["total_ms"] >= m["ttft_ms"]
        assert m["tokens_out"] > 0 and m["tokens_in"] > 20  # the question and 2 passages
        assert 0 <= m["similarity"] <= 1 and m["retrieval_hit"] in (True, False)
        assert m["citation_support"] in (True, False)
        assert m["contains_expected"] in (True, False)
        assert len(r.citations) == 2
        if r.contestant.startswith("remote:"):
            assert m["peak_rss_mb"] is None and m["cost"] > 0 and m["tokens_in_estimated"]
        else:
            assert m["peak_rss_mb"] > 100 and m["cost"] == 0.0  # a model and torch are loaded
            assert m["tokens_per_s"] > 1
    # Retrieval found the passage placed for each question (same retrieval for each).
    assert all(r.metrics["retrieval_hit"] for r in results)
    # The remote's requests went through the gate: asked once for the run, all ledgered.
    assert len(answers.previews) == 1
    sent = [e for e in Ledger(ev.wb.store).entries() if e.outcome == "sent"]
    assert len(sent) == 3 and all(e.endpoint == "team" for e in sent)
    assert len([r for r in proxy.received if r.path.endswith("/chat/completions")]) == 3
    # The model loaded before the run is loaded again after it.
    assert ev.wb.loaded_model is not None and ev.wb.loaded_model.name == SMOL

    report = ev.report(run.id)
    overall = {s.contestant: s for s in report.overall()}
    assert set(overall) == {c.key for c in run.contestants}
    assert overall["remote:team?k=2&mode=hybrid"].cost > 0
    assert report.html().count("<svg") >= 4
    rows = list(csv.DictReader(io.StringIO(report.csv())))
    assert len(rows) == 9 and {r["retrieval_hit"] for r in rows} == {"True"}


def test_a_judge_scores_answers_with_its_prompt_kept(evaluation: Evaluation) -> None:
    ev = evaluation
    run = ev.create_run("harbour", [f"local:{SMOL}?k=1"], params={"max_tokens": 8}, judge=SMOL)
    assert ev.job(run.id).execute() == "finished"
    judged = [r.metrics["judge"] for r in ev.runs.results(run.id)]
    assert all(j is None or 0 <= j <= 1 for j in judged) and any(j is not None for j in judged)
    assert "Reference answer" in ev.runs.get(run.id).settings["judge_prompt"]
    assert "Reference answer" in ev.report(run.id).html()


def test_cancel_keeps_what_was_done_and_resume_finishes(evaluation: Evaluation) -> None:
    ev = evaluation
    # rerank=none: the contestant's own retrieval setting reaches the search.
    run = ev.create_run("harbour", [f"local:{SMOL}?k=1&rerank=none"], params={"max_tokens": 8})
    job = ev.job(run.id, lambda p: job.cancel() if p.done == 1 else None)
    assert job.execute() == "cancelled"
    first = ev.runs.results(run.id)
    assert len(first) == 1 and ev.runs.get(run.id).status == "cancelled"
    assert ev.job(run.id).execute() == "finished"
    after = ev.runs.results(run.id)
    assert len(after) == 3
    assert [(r.id, r.created_at) for r in after if r.item_id == first[0].item_id] == [
        (first[0].id, first[0].created_at)
    ]


def test_a_run_waits_for_the_persons_reply_instead_of_stopping_it(
    evaluation: Evaluation,
) -> None:
    """Starting a run while a reply is being written in the window: the contestant's model
    loads once that reply has ended; the reply is kept whole, not stopped."""
    ev = evaluation
    wb = ev.wb
    wb.load_model(SMOL)
    run = ev.create_run("harbour", [f"local:{GEMMA}?k=0"], params={"max_tokens": 4})
    conversation = wb.new_conversation()
    events = iter(
        wb.reply(conversation.id, "Count from 1 to 300, one number a line.", {"max_tokens": 300})
    )
    assert isinstance(next(events), Token) and wb.replying  # the person's reply is being written
    status: list[str] = []
    job = threading.Thread(target=lambda: status.append(ev.job(run.id).execute()))
    job.start()
    done = [e for e in events if isinstance(e, Done)][-1]
    job.join(timeout=300)
    assert not done.stats.stopped and done.stats.finish_reason in ("length", "stop")
    stored = wb.store.messages(conversation.id)[-1]
    assert stored.role == "assistant" and not stored.stopped and stored.text == done.text
    assert status == ["finished"] and len(ev.runs.results(run.id)) == 3
