"""Test sets in the store and in files, contestant specs, the pure metrics, and the
Wilson interval: no model needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.citation import Citation
from app.evaluate import metrics
from app.evaluate.contestants import Contestant
from app.evaluate.errors import EvaluateError, ImportSetError
from app.evaluate.review import wilson
from app.evaluate.setfiles import read_items, write_items
from app.evaluate.sets import Gold, Item, TestSets
from app.store import Store

PASSAGE = Citation(
    "/docs/harbour.md", None, None, "Harbour", "The harbour master is Ingrid Solberg.", 0, 38, n=1
)


def test_csv_and_jsonl_round_trip(store: Store, tmp_path: Path) -> None:
    sets = TestSets(store)
    s = sets.create("harbour", "kb")
    gold = [Gold("/docs/harbour.md", "kb", 3, 10, 60, "The harbour master is Ingrid Solberg.")]
    sets.add(s, [Item(0, "Who is the harbour master?", "Ingrid Solberg", gold, "facts")])
    sets.add(s, [Item(0, "Where is diesel sold?", status="draft")])
    s = sets.get("harbour")
    for suffix in (".csv", ".jsonl"):
        path = tmp_path / f"set{suffix}"
        assert write_items(s, path) == 2
        back = read_items(path)
        assert [(i.question, i.expected, i.gold, i.task, i.status) for i in back] == [
            (i.question, i.expected, i.gold, i.task, i.status) for i in s.items
        ]


def test_a_hand_written_csv_with_flat_gold_columns(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "question,expected,gold_source,gold_page,gold_text\n"
        "Who is the master?,Ingrid,harbour.md,2,harbour master is Ingrid\n"
    )
    [item] = read_items(path)
    assert item.gold == [Gold("harbour.md", page=2, text="harbour master is Ingrid")]
    assert item.status == "accepted"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.jsonl", '{"question": "ok"}\nnot json\n', "line 2 is not JSON"),
        ("bad.csv", "question,status\nWhy?,maybe\n", "status 'maybe'"),
        ("empty.csv", "question,expected\n,x\n", "item 1 has no question"),
        ("set.txt", "question\n", ".csv or .jsonl"),
    ],
)
def test_a_bad_file_imports_nothing_and_says_where(
    store: Store, tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ImportSetError, match=message):
        read_items(path)


def test_items_are_accepted_and_dropped(store: Store) -> None:
    sets = TestSets(store)
    s = sets.create("x")
    a, b = sets.add(s, [Item(0, "one?", status="draft"), Item(0, "two?", status="draft")])
    sets.edit(a, status="accepted", expected="1")
    sets.edit(b, status="dropped")
    s = sets.get("x")
    assert [i.question for i in s.usable()] == ["one?"] and s.usable()[0].expected == "1"
    assert "1 accepted, 0 draft, 1 dropped" in s.describe()
    with pytest.raises(EvaluateError, match="not a status"):
        sets.edit(a, status="maybe")
    with pytest.raises(EvaluateError, match="no question 999"):
        sets.edit(999, status="dropped")
    with pytest.raises(EvaluateError, match="exists already"):
        sets.create("x")


def test_contestant_specs() -> None:
    c = Contestant.parse("local:SmolLM2-135M-Instruct.Q4_1?ctx=2048&kv=q8_0&gpu=0&k=3")
    assert c.load_overrides() == {"context_length": 2048, "gpu_layers": 0, "kv_type": "q8_0"}
    assert Contestant.parse(c.key) == c and c.top_k == 3 and c.mode == "hybrid"
    assert Contestant.parse("remote:team").is_remote
    assert c.reranker is None and "rerank" not in c.key  # the collection's own
    ranked = Contestant.parse("local:m?k=3&rerank=bge-reranker-base")
    unranked = Contestant.parse("remote:team?rerank=none")
    assert (ranked.reranker, unranked.reranker) == ("bge-reranker-base", "")
    assert Contestant.parse(ranked.key) == ranked and Contestant.parse(unranked.key) == unranked
    assert ranked.describe().endswith("reranked by bge-reranker-base")
    assert unranked.describe().endswith("no reranker")
    bad_specs = ("model", "local:", "local:m?kv=q3", "remote:team?ctx=4", "local:m?mode=x")
    for bad in (*bad_specs, "local:m?rerank="):
        with pytest.raises(EvaluateError):
            Contestant.parse(bad)


def test_metrics_on_a_placed_passage() -> None:
    item = Item(
        1,
        "Who is the harbour master?",
        "Ingrid Solberg",
        [Gold("harbour.md", text="Ingrid Solberg")],
    )
    other = Citation("/docs/fuel.md", text="Diesel is sold on the north pier.", n=2)
    assert metrics.retrieval_hit(item, [other, PASSAGE]) is True
    assert metrics.retrieval_hit(item, [other]) is False
    assert metrics.citation_support(item, "It is Ingrid Solberg [1].", [PASSAGE, other]) is True
    assert metrics.citation_support(item, "It is Ingrid Solberg [2].", [PASSAGE, other]) is False
    assert metrics.citation_support(item, "Ingrid Solberg.", [PASSAGE]) is False
    assert metrics.contains_expected(item, "the master: ingrid  solberg!") is True
    assert metrics.contains_expected(Item(2, "q"), "x") is None
    assert metrics.cost(1_000_000, 500_000, (2.0, 8.0)) == pytest.approx(6.0)
    assert metrics.cosine([1, 0], [1, 0]) == pytest.approx(1.0)


def test_gold_offsets_decide_between_identical_files() -> None:
    g = Gold("/docs/a.md", start=100, end=200)
    assert g.matches(Citation("/docs/a.md", start=150, end=260))
    assert not g.matches(Citation("/docs/a.md", start=300, end=400))
    assert not g.matches(Citation("/docs/b.md", start=150, end=260))


def test_wilson_interval() -> None:
    low, high = wilson(8, 10)
    assert 0.49 < low < 0.5 and 0.94 < high < 0.95  # the textbook 0.490–0.943
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert low == pytest.approx(1 - high)


def test_jsonl_export_is_one_object_a_line(store: Store, tmp_path: Path) -> None:
    sets = TestSets(store)
    s = sets.create("y")
    sets.add(s, [Item(0, "a?"), Item(0, "b?")])
    path = tmp_path / "y.jsonl"
    write_items(sets.get("y"), path)
    assert [json.loads(line)["question"] for line in path.read_text().splitlines()] == ["a?", "b?"]
