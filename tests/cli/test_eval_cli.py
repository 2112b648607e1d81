"""`carrel eval …` end to end in this process: import, show, draft, edit, run, report,
runs, perplexity, review and usage, and errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evaluate.conftest import FILES, QUESTIONS, SMOL
from tests.support.runners import cli

pytestmark = pytest.mark.slow


def test_eval_commands(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in FILES.items():
        (docs / name).write_text(text)
    assert cli("docs", "add", str(docs), "--collection", "harbour")[0] == 0
    set_file = tmp_path / "set.jsonl"
    set_file.write_text(
        "".join(
            json.dumps({"question": q, "expected": e, "gold": [{"source": f, "text": g}]}) + "\n"
            for q, e, f, g in QUESTIONS[:2]
        )
    )
    code, out, _ = cli(
        "eval", "sets", "import", "harbour", str(set_file), "--collection", "harbour"
    )
    assert code == 0 and "Imported 2 questions" in out
    code, out, _ = cli("eval", "sets", "list", "--json")
    assert json.loads(out) == [{"name": "harbour", "collection": "harbour", "items": 2}]
    code, out, _ = cli("eval", "sets", "show", "harbour", "--json")
    items = json.loads(out)
    assert [i["question"] for i in items] == [q for q, *_ in QUESTIONS[:2]]

    code, out, err = cli("eval", "run", "harbour", "-c", f"local:{SMOL}?k=2", "--max-tokens", "8")
    assert code == 0 and "Run 1 finished" in out and "2/2 answers" in err
    html, table = tmp_path / "r.html", tmp_path / "r.csv"
    code, out, _ = cli("eval", "report", "1", "--html", str(html), "--csv", str(table), "--json")
    report = json.loads(out)
    [summary] = report["summaries"]
    assert summary["answers"] == 2 and summary["retrieval_hit"] == 1.0
    assert report["routes"][0]["contestant"] == f"local:{SMOL}?k=2&mode=hybrid"
    assert html.read_text().startswith("<!DOCTYPE html>") and table.read_text().count(SMOL) == 2
    code, out, _ = cli("eval", "runs", "--json")
    assert json.loads(out)[0]["status"] == "finished"
    code, out, _ = cli("eval", "review", "1", stdin="q\n")
    assert code == 0 and "Every pair has a verdict" in out  # one contestant: no pairs

    code, out, _ = cli("eval", "perplexity", SMOL, "harbour", "-n", "3", "--json")
    [ppl] = json.loads(out)
    assert ppl["quant"] == "Q4_1" and ppl["perplexity"] > 1 and ppl["tokens"] > 20

    code, out, _ = cli(
        "eval", "sets", "draft", "drafted", "--collection", "harbour", "--model", SMOL, "-n", "2"
    )
    assert code == 0 and "Drafted" in out
    code, out, _ = cli("eval", "sets", "show", "drafted", "--json")
    drafted = json.loads(out)
    assert len(drafted) <= 2 and all(i["status"] == "draft" for i in drafted)
    assert all(i["gold"][0]["text"] and i["gold"][0]["collection"] == "harbour" for i in drafted)
    if drafted:  # the person accepts a drafted question
        assert cli("eval", "sets", "edit", str(drafted[0]["id"]), "--status", "accepted")[0] == 0
        shown = json.loads(cli("eval", "sets", "show", "drafted", "--json")[1])
        assert shown[0]["status"] == "accepted"

    code, out, _ = cli("eval", "usage")
    assert code == 0 and "No replies recorded yet" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "sets", "show", "nope"], "no test set 'nope'"),
        (["eval", "report", "7"], "no evaluation run 7"),
        (["eval", "price", "nowhere", "1", "2"], "nowhere"),
        (["eval", "sets", "edit", "99", "--status", "accepted"], "no question 99"),
    ],
)
def test_eval_errors_say_what_to_do(argv: list[str], message: str) -> None:
    code, _out, err = cli(*argv)
    assert code == 1 and message in err
