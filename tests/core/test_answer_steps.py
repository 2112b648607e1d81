"""The steps of a document answer told to the thread that asked (`app.answer_steps`), and
the note on a model too small for document answers."""

from __future__ import annotations

import threading
from pathlib import Path

from app import answer_steps
from app.answer_steps import READING, SEARCHING, Step, reporting, small_model_note
from app.citation import Citation
from app.library.registry import ModelInfo


def find(text: str, collection: str, k: int) -> list[Citation]:
    scores = {"a": [0.9, 0.4], "b": [0.7, 0.6, 0.1]}[collection]
    return [Citation(f"/{collection}/{i}.md", score=s, text=text) for i, s in enumerate(scores)][:k]


def test_steps_told_in_order_and_the_best_passages_kept() -> None:
    seen: list[Step] = []
    with reporting(seen.append):
        hits = answer_steps.search(find, ["a", "b"], "q", 3)
    assert [s.describe() for s in seen] == ["Searching 2 collections…", "Reading 3 passages…"]
    assert [s.kind for s in seen] == [SEARCHING, READING]
    assert [h.score for h in hits] == [0.9, 0.7, 0.6]
    # One collection keeps its own order (a reranker's), and nothing found is said so.
    assert [h.score for h in answer_steps.search(find, ["a"], "q", 5)] == [0.9, 0.4]
    assert Step(READING, 0).describe() == "No passages found; answering without them…"
    assert Step(SEARCHING, 1).describe() == "Searching 1 collection…"


def test_no_listener_no_collections_and_other_threads_untouched() -> None:
    assert answer_steps.search(find, [], "q", 5) == []
    answer_steps.search(find, ["a"], "q", 5)  # nobody listening: nothing happens
    seen: list[Step] = []
    other: list[Step] = []

    def elsewhere() -> None:
        with reporting(other.append):
            pass
        answer_steps.search(find, ["b"], "q", 5)

    with reporting(seen.append):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert seen == [] and other == []


def test_small_model_note() -> None:
    small = ModelInfo("SmolLM2-135M", Path("/m.gguf"), 0, "test", n_params=134_515_008)
    large = ModelInfo("Big-3B", Path("/b.gguf"), 0, "test", n_params=3_200_000_000)
    unknown = ModelInfo("Odd", Path("/o.gguf"), 0, "test")
    note = small_model_note(small)
    assert "SmolLM2-135M has 135M parameters" in note and "Catalog" in note
    assert small_model_note(large) == small_model_note(unknown) == small_model_note(None) == ""
