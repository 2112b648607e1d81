"""The twenty-third round's bench tools (`tests/bench/rag_candidates.py`'s scores
scaled from zero, `bench_rag_eval`'s passage sizes, `rag_paired`'s bootstrap): what each
does on small inputs, so that their figures in BENCHMARKS.md can be made again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.rag.chunker import MAX_CHARS, OVERLAP_WORDS, Chunker
from app.rag.loaders.base import Section
from app.rag.represent import fuse
from tests.bench.bench_rag_eval import SIZES, passage_size
from tests.bench.rag_candidates import from_zero
from tests.bench.rag_paired import compare, ranks_of

DENSE = [("a", 0.62), ("b", 0.60), ("c", 0.30)]
FLAT_BM25 = [("c", 5.2), ("b", 5.1), ("a", 5.0)]  # a paraphrase: weak, near-equal matches


def test_min_max_spreads_a_flat_list_over_the_whole_scale() -> None:
    # Shipped: BM25's 5.2 / 5.1 / 5.0 become 1 / 0.5 / 0, enough to put b over a.
    assert [key for key, _ in fuse([DENSE, FLAT_BM25], (0.6, 0.4))][:2] == ["b", "a"]


def test_scaled_from_zero_a_flat_list_stays_flat_and_the_dense_side_decides() -> None:
    assert from_zero([DENSE, FLAT_BM25], (0.6, 0.4))[:2] == ["a", "b"]


def test_scaled_from_zero_a_negative_score_counts_zero_and_a_missing_id_zero() -> None:
    fused = from_zero([[("a", 0.5), ("b", -0.2)], [("b", 2.0)]], (0.6, 0.4))
    assert fused == ["a", "b"]  # a: 0.6; b: 0 + 0.4


def test_the_shipped_size_is_the_chunkers_own_and_takes_the_overlap_asked_for() -> None:
    assert passage_size(MAX_CHARS, OVERLAP_WORDS) == {
        "target": Chunker.target,
        "maximum": Chunker.maximum,
        "overlap": Chunker.overlap,
        "target_chars": Chunker.target_chars,
        "max_chars": Chunker.max_chars,
    }
    assert passage_size(MAX_CHARS, 0)["overlap"] == 0


def test_shorter_passages_stay_within_their_size() -> None:
    text = " ".join(f"Sentence number {i} says something about the topic." for i in range(200))
    counts = {}
    for most in SIZES:
        chunks = list(Chunker(**passage_size(most, OVERLAP_WORDS)).chunks([Section(text)]))
        # The chunker measures the room before the joint ("\n\n") a new paragraph brings.
        assert all(len(c.text) <= most + 2 for c in chunks)
        assert len(chunks) > 1
        counts[most] = len(chunks)
    assert counts[450] > counts[600] > counts[MAX_CHARS]


def test_the_same_ranks_differ_by_nothing_for_sure() -> None:
    ranks: list[int | None] = [1, 2, None, 7]
    out = compare([(ranks, list(ranks))], rounds=200, seed=0)
    assert out["mrr@10"]["difference"] == 0.0
    assert out["mrr@10"]["interval_95"] == [0.0, 0.0]
    assert out["hit@5"]["up"] == out["hit@5"]["down"] == 0


def test_a_question_found_first_moves_each_measure_by_its_share() -> None:
    out = compare([([None, 1, 3, 12], [1, 1, 3, 12])], rounds=500, seed=0)
    assert out["mrr@10"] | {"interval_95": None} == {
        "before": round((1 + 1 / 3) / 4, 3),
        "after": round((2 + 1 / 3) / 4, 3),
        "difference": 0.25,
        "interval_95": None,
        "up": 1,
        "down": 0,
    }
    low, high = out["hit@1"]["interval_95"]
    assert low == 0.0 and high > 0.0  # one question of four: chance cannot be ruled out


def test_pooled_sets_are_resampled_each_within_itself() -> None:
    many = [(list(range(1, 11)), list(range(1, 11))) for _ in range(3)]
    out = compare([*many, ([None] * 5, [1] * 5)], rounds=300, seed=1)
    assert out["questions"] == 35
    # The last set gained in every question, the others in none: a resample keeps five
    # of its questions each time, so the pooled hit@1 rises by exactly 5 / 35.
    assert out["hit@1"]["interval_95"] == [round(5 / 35, 3)] * 2


def test_a_run_is_read_alone_or_from_several_and_an_older_output_is_refused(
    tmp_path: Path,
) -> None:
    alone = tmp_path / "alone.json"
    alone.write_text(json.dumps({"set": "dev", "hybrid": {"ranks": [1, None]}}))
    several = tmp_path / "several.json"
    runs = [{"hybrid": {"ranks": [2, 3]}}, {"hybrid": {"ranks": [1, 1]}}]
    several.write_text(json.dumps({"set": "dev", "runs": runs}))
    assert ranks_of(alone, "hybrid", 0) == ("dev", [1, None])
    assert ranks_of(several, "hybrid", 1) == ("dev", [1, 1])
    older = tmp_path / "older.json"
    older.write_text(json.dumps({"set": "dev", "hybrid": {"all": {}}}))
    with pytest.raises(SystemExit, match="each question's rank"):
        ranks_of(older, "hybrid", 0)
