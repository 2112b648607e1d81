"""One pass per passage ("late"): the passage vector as the embedder makes it, a vector per
sentence pooled from the same pass, and sentences past the model's limit embedded alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.rag.chunker import Chunk
from app.rag.embedder import SentenceEmbedder
from app.rag.passages import DEFAULT_REPRESENTATION, embed
from app.rag.represent import heading_line, sentence_spans, sentences
from app.rag.service import Documents


def chunk(text: str) -> Chunk:
    return Chunk(text, 1, 1, ("Guide", "Tea"), 0, len(text), len(text.split()))


def test_spans_follow_the_sentences() -> None:
    text = "Camellia likes acid soil. Pick two leaves\nand a bud! Dry them: slowly; in shade."
    c = chunk(text)
    spans = sentence_spans(text)
    pieces = [" ".join(text[a:b].split()) for a, b in spans]
    assert pieces == [s.removeprefix(heading_line(c)) for s in sentences(c)]


def test_late_vectors(embedder: SentenceEmbedder) -> None:
    c = chunk("The first flush is plucked in spring. Black tea is fully oxidised.")
    (late,) = embed(embedder, [c], "late")
    (alone,) = embed(embedder, [c], "sentences")
    whole = np.asarray(embedder.embed([heading_line(c) + c.text])[0])
    assert np.dot(late.mean, whole) > 0.9999  # the passage vector is the model's own
    assert len(late.sentences) == len(alone.sentences) == 1  # packed like `sentences`
    (passage,) = embed(embedder, [c], "passage")
    assert passage.sentences == [] and np.dot(passage.mean, whole) > 0.9999


def test_sentences_past_the_limit_are_embedded_alone(embedder: SentenceEmbedder) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    text = " ".join(f"Sentence {i} says {words}." for i in range(6))  # far past 256 pieces
    (v,) = embed(embedder, [chunk(text)], "late")
    assert len(v.sentences) == len(sentence_spans(text))
    norms = [float(np.linalg.norm(s)) for s in v.sentences]
    assert all(abs(n - 1) < 1e-3 for n in norms)  # every one, the cut-off ones too


def test_a_collection_keeps_the_representation_it_was_made_with(
    documents: Documents, tmp_path: Path
) -> None:
    from tests.rag.test_ingest import agree

    (tmp_path / "a.txt").write_text("Herons nest in colonies. They eat fish.")
    (tmp_path / "b.txt").write_text("Kestrels hover over verges. They eat voles.")
    documents.representation = "sentences"  # a collection made before issue 16
    documents.add([tmp_path / "a.txt"], "old")
    documents.representation = DEFAULT_REPRESENTATION
    documents.add([tmp_path / "b.txt"], "old")  # still embedded sentence by sentence
    documents.add([tmp_path / "b.txt"], "new")
    record = documents.records.collection("old")
    assert record is not None and record.representation == "sentences"
    agree(documents, "old")  # both files have their sentence vectors
    agree(documents, "new")  # one vector per passage, none
    assert documents.search("What do kestrels eat?", "old", k=1)[0].text.startswith("Kestrels")
