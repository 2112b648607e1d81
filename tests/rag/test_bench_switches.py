"""The fifteenth round's bench switches (`tests/bench/leave_out.py`, `windowed.py`,
`rows_values.py`): what each changes in what the network reads, on small inputs, so that
their figures in BENCHMARKS.md can be made again."""

from __future__ import annotations

import numpy as np
import pytest

from app.rag.chunker import Chunk
from tests.bench.leave_out import LeaveOut
from tests.bench.rows_values import columns, unlabelled, values
from tests.bench.windowed import allowed, groups

VOCAB = {
    "[CLS]": 0,
    "[SEP]": 1,
    "the": 2,
    "there": 3,
    "##by": 4,
    "(": 5,
    ")": 6,
    "varchar": 7,
    "10": 8,
    "not": 9,
    "##.": 10,
}


def test_punctuation_is_left_out_and_the_special_tokens_stay() -> None:
    ids = np.array([0, 7, 5, 8, 6, 2, 1])
    keep = LeaveOut(VOCAB, "punctuation").keep(ids)
    assert keep is not None
    assert ids[keep].tolist() == [0, 7, 8, 2, 1]


def test_function_words_go_unless_the_next_token_continues_the_word() -> None:
    ids = np.array([0, 2, 7, 3, 4, 9, 3, 1])  # the varchar there##by not there
    keep = LeaveOut(VOCAB, "function-words").keep(ids)
    assert keep is not None
    assert ids[keep].tolist() == [0, 7, 3, 4, 9, 1]  # negations are kept


def test_nothing_left_out_reads_every_token() -> None:
    assert LeaveOut(VOCAB, "none").keep(np.array([0, 2, 1])) is None
    with pytest.raises(ValueError, match="leave out one of"):
        LeaveOut(VOCAB, "nouns")


def test_a_windowed_sentence_attends_to_its_neighbours_and_the_heading_only() -> None:
    # [CLS] head | s0 s0 | s1 | s2 | [SEP] [PAD]
    offsets = np.array([[0, 0], [0, 4], [5, 8], [9, 12], [13, 16], [17, 20], [0, 0], [0, 0]])
    mask = np.array([1, 1, 1, 1, 1, 1, 1, 0], np.float32)
    group = groups(offsets, mask, [(5, 12), (13, 16), (17, 20)])
    assert group.tolist() == [-1, -1, 0, 0, 1, 2, -1, -2]
    rules = allowed(group, 1)
    assert rules[2, 4] and not rules[2, 5]  # s0 sees s1, not s2
    assert rules[2, 0] and rules[2, 1]  # ...and the special tokens and the heading
    assert not rules[0, 2] and rules[0, 6]  # which see only one another
    assert not rules[:, 7].any()  # nobody attends to padding
    assert allowed(group, 2)[2, 5]


def test_rows_lose_their_labels_and_keep_their_values() -> None:
    line = "alpha_2: AW; alpha_3: ABW; name: Aruba; note: a: b"
    assert unlabelled(line) == "AW; ABW; Aruba; a: b"
    text = "Afghanistan; official_name: Islamic Republic\nalpha_2: AW; name: Aruba"
    assert columns(text) == ["official_name", "alpha_2", "name"]  # not the carried value
    chunk = Chunk(text, 1, 1, (), 0, len(text), 8, records=True)
    assert values(chunk) == ["Afghanistan; Islamic Republic AW; Aruba"]
    assert values(chunk, labelled=True) == [
        "columns: official_name, alpha_2, name\nAfghanistan; Islamic Republic AW; Aruba"
    ]
