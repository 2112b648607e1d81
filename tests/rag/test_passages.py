"""One pass per passage ("late"): the passage vector as the embedder makes it, a vector per
sentence pooled from the same pass, and sentences past the model's limit embedded alone;
a CSV file's passages are table rows, embedded piece by piece instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.rag.chunker import Chunk
from app.rag.embedder import SentenceEmbedder
from app.rag.passages import DEFAULT_REPRESENTATION, embed
from app.rag.represent import (
    MAX_SENTENCES,
    embed_chunks,
    heading_line,
    rows,
    sentence_spans,
    sentences,
)
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


def test_a_csv_files_passages_are_table_rows(tmp_path: Path) -> None:
    from app.rag.chunker import Chunker
    from app.rag.loaders.text import load_csv, load_text
    from app.rag.points import payload
    from app.rag.reembed import _chunk

    table = "code,name\n" + "\n".join(f"X{i},Place number {i}" for i in range(300))
    with (tmp_path / "t.csv").open("wb+") as f:
        f.write(table.encode())
        f.seek(0)
        rows_ = list(Chunker().chunks(load_csv(f, "t.csv")))
    with (tmp_path / "t.txt").open("wb+") as f:
        f.write(table.encode())
        f.seek(0)
        text = list(Chunker().chunks(load_text(f, "t.txt")))
    assert len(rows_) > 3 and all(c.records for c in rows_)  # the carried overlap too
    assert not any(c.records for c in text)
    stored = {**payload("t.csv", "h", 0, rows_[1]), "text": rows_[1].text}
    assert stored["records"] is True and _chunk(stored).records  # a re-embedding knows
    assert "records" not in payload("t.txt", "h", 0, text[0])
    with (tmp_path / "t.csv").open("rb") as f:
        alone = list(Chunker(record_overlap=False).chunks(load_csv(f, "t.csv")))
    said = [line for c in alone for line in c.text.split("\n\n")]
    assert len(said) == 300 and len(set(said)) == 300  # every row once, whole
    assert len(alone) < len(rows_) and all(c.records for c in alone)


def test_rows_stay_whole_and_bounded() -> None:
    lines = [f"code: X{i}; name: Place number {i}; type: Town" for i in range(40)]
    c = Chunk("\n\n".join(lines), None, None, ("t.csv",), 0, 0, 0, records=True)
    got = rows(c)
    assert 1 <= len(got) <= MAX_SENTENCES
    bodies = [g.removeprefix(heading_line(c)) for g in got]
    for body in bodies:  # whole rows, joined
        first, *more = body.split(" code: ")
        assert first in lines and all(f"code: {m}" in lines for m in more)
    assert " ".join(bodies) == " ".join(lines)  # nothing lost, nothing cut
    assert rows(Chunk("code: A; name: B", None, None, (), 0, 0, 0, True)) == ["code: A; name: B"]


def test_table_rows_are_embedded_the_collections_way(
    embedder: SentenceEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.rag import passages

    prose = chunk("The first flush is plucked in spring. Black tea is fully oxidised.")
    lines = ["species: wren; wingspan_cm: 15", "species: albatross; wingspan_cm: 340"]
    table = Chunk("\n\n".join(lines), None, None, (), 0, 0, 4, records=True)
    (late_prose,) = embed(embedder, [prose], "late")
    # As text, embedded in the same call (int8 activations share a scale per batch).
    as_text = [prose, Chunk(table.text, None, None, (), 0, 0, 4)]
    for way in passages.RECORD_WAYS:
        monkeypatch.setattr(passages, "RECORDS", way)
        got_prose, got_table = embed(embedder, [prose, table], "late")
        want_prose = late_prose
        if way == "late":
            want_prose, expected = embed(embedder, as_text, "late")
        else:
            pieces = rows if way == "rows" else sentences
            (expected,) = embed_chunks(embedder, [table], pieces)
        assert np.allclose(got_prose.mean, want_prose.mean, atol=1e-4)  # prose: always late
        assert len(got_table.sentences) == len(expected.sentences)
        assert np.allclose(got_table.sentences, expected.sentences, atol=1e-4)
    (row_vectors,) = embed_chunks(embedder, [table], rows)
    assert len(row_vectors.sentences) == 1  # two short rows, joined whole
