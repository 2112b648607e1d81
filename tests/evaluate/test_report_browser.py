"""The report: its HTML opens in a real browser (Debian's headless Chromium) and the
screenshot shows the plots; its CSV has every answer. Blind review never reveals a
contestant before the vote, and votes become win rates with intervals."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from app.citation import Citation
from app.evaluate.contestants import Contestant
from app.evaluate.perplexity import Perplexity
from app.evaluate.review import Reviews, win_rates
from app.evaluate.routing import suggest
from app.evaluate.runs import Result, Runs
from app.evaluate.sets import Item, TestSets
from app.evaluate.summary import summarise
from app.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
A = Contestant.parse("local:SmolLM2-135M-Instruct.Q4_1?k=4")
B = Contestant.parse("local:gemma-3-270m-q4_k_m?kv=q8_0&k=4")
R = Contestant.parse("remote:team?k=4")


def filled_run(store: Store) -> int:
    sets, runs = TestSets(store), Runs(store)
    s = sets.create("harbour", "harbour")
    ids = sets.add(s, [Item(0, f"Question {n}?", f"answer {n}", task="facts") for n in range(6)])
    run = runs.create(s.id, [A, B, R], {"params": {"max_tokens": 32}})
    for n, item_id in enumerate(ids):
        for c, ms, tps, mem, cost, good in (
            (A, 900 + 40 * n, 80.0, 420.0, 0.0, n % 2 == 0),
            (B, 2100 + 60 * n, 35.0, 690.0, 0.0, n % 3 != 0),
            (R, 1500 + 10 * n, 60.0, None, 0.0004, True),
        ):
            metrics = {
                "ttft_ms": ms / 4, "total_ms": ms, "tokens_per_s": tps, "tokens_in": 300,
                "tokens_out": 32, "peak_rss_mb": mem, "cost": cost, "retrieval_hit": True,
                "citation_support": good, "contains_expected": good, "similarity": 0.7,
                "judge": None,
            }  # fmt: skip
            answer = f"{c.name} says answer {n} [1]" if good else f"{c.name} is unsure"
            runs.save(Result(0, run.id, item_id, c.key, answer, metrics, [Citation("a.md", n=1)]))
    return run.id


def test_blind_review_hides_names_until_the_vote(store: Store) -> None:
    run_id = filled_run(store)
    reviews = Reviews(store, run_id, seed=3)
    assert reviews.remaining == 18  # 6 items × 3 pairs
    verdicts = ["A", "B", "tie", "both-bad"]
    n = 0
    while (pair := reviews.next_pair()) is not None:
        shown = " ".join(str(v) for v in vars(pair).values())
        for c in (A, B, R):  # the answers mention the model; the pair's fields add no name
            assert c.key not in shown
        v = reviews.vote(pair.token, verdicts[n % 4])
        assert {v.a, v.b} <= {A.key, B.key, R.key} and v.a != v.b
        n += 1
    rates = {w.contestant: w for w in win_rates(store, run_id)}
    assert sum(w.comparisons for w in rates.values()) == 36
    for w in rates.values():
        assert 0 <= w.low <= w.rate <= w.high <= 1
    # A later session offers only the pairs not yet judged.
    assert Reviews(store, run_id).remaining == 0


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
def test_the_html_report_renders_in_chromium(store: Store, tmp_path: Path) -> None:
    from app.evaluate.report import Report

    run_id = filled_run(store)
    runs, sets = Runs(store), TestSets(store)
    run = runs.get(run_id)
    results = runs.results(run_id)
    summaries = summarise(results, {i.id: i.task for i in sets.by_id(run.set_id).items})
    ppl = [
        Perplexity("SmolLM2-135M-Instruct.Q4_1", "Q4_1", 8.41, 412, 94 << 20, 620.0),
        Perplexity("SmolLM2-135M-Instruct.Q4_1.Q2_K", "Q2_K", 12.9, 412, 70 << 20, 700.0),
    ]
    report = Report(
        run, sets.by_id(run.set_id), summaries, results, [], ppl, suggest(summaries, 2000)
    )
    html = tmp_path / "report.html"
    html.write_text(report.html())
    assert html.read_text().count("<svg") == 5 and "http" not in html.read_text().replace(
        "http://www.w3.org/2000/svg", ""
    )  # self-contained: nothing fetched
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={shot}", "--window-size=1200,1900", html.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a page with plots, not a blank one
    keep = Path(__file__).resolve().parents[1] / "screenshots"
    if keep.is_dir():
        shutil.copy(shot, keep / "evaluate_report.png")
    rows = list(csv.DictReader(io.StringIO(report.csv())))
    assert len(rows) == 18 and rows[0]["contestant"] == A.key
