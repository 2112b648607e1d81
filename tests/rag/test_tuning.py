"""Passage size in characters, query threads, search modes, the reader thread, and the
question sets' own consistency (the scores themselves are in tests/bench/bench_rag_eval)."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest

from app.rag.chunker import Chunker
from app.rag.embedder import SentenceEmbedder
from app.rag.loaders.base import Section
from app.rag.pipeline import Reader
from app.rag.service import Documents
from app.rag.torch_runtime import intra_op_threads

# The evaluation set measures; the development set (other manuals) chose the fusion.
QUESTION_SETS = {
    "eval": Path(__file__).parent / "eval" / "questions.toml",
    "dev": Path(__file__).parent / "dev" / "questions.toml",
}


def test_passages_are_capped_in_characters_and_always_progress() -> None:
    long_words = " ".join(f"/usr/lib/x86_64-linux-gnu/libexample{i}.so.1" for i in range(400))
    giant = "x" * 5_000  # one "word" longer than a passage
    sections = [Section(long_words), Section(giant, start=len(long_words) + 2), Section("end")]
    chunker = Chunker()
    chunks = list(chunker.chunks(sections))
    assert len(chunks) > 10
    assert all(len(c.text) <= chunker.max_chars for c in chunks if giant not in c.text)
    assert any(giant in c.text for c in chunks) and chunks[-1].text.endswith("end")
    # Overlap is kept, but never more than a quarter of a passage.
    assert 0 < chunks[0].end - chunks[1].start <= chunker.max_chars // 4


def test_query_runs_on_one_thread_and_restores_the_count(embedder: SentenceEmbedder) -> None:
    import torch

    before = torch.get_num_threads()
    with intra_op_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert len(embedder.embed(["a short query"])[0]) == embedder.dim
    assert torch.get_num_threads() == before


def test_search_modes_find_the_passage(documents: Documents, corpus: Path) -> None:
    documents.add([corpus], "m")
    for mode in ("dense", "bm25", "hybrid"):
        hits = documents.search("How high is Toubkal summit?", "m", k=3, mode=mode)
        top = hits[0]
        assert top.source.endswith("atlas.pdf"), mode
        assert (top.page or 0) <= 3 <= (top.page_end or top.page or 0), mode


def test_reader_reads_one_file_ahead_when_told(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        files.append(tmp_path / f"r{i}.txt")
        files[-1].write_text(f"File {i} text.")
    reader = Reader(files, {}, max_chunks=100, ahead=1)
    items = iter(reader)
    files[1].unlink()  # r0 not yet taken: the reader has not read r1
    first = next(items)
    assert first.status == "read" and first.chunks
    second = next(items)
    assert isinstance(second.error, FileNotFoundError) or second.status == "failed"
    assert next(items).chunks[0].text == "File 2 text."
    assert next(items, None) is None
    reader.close()


def test_reader_reads_small_files_ahead_while_a_group_is_embedded(tmp_path: Path) -> None:
    """Small files are embedded in groups: the reader goes on reading them meanwhile,
    up to `ahead` passages, so their parsing does not wait for the group."""
    files = []
    for i in range(4):
        files.append(tmp_path / f"s{i}.txt")
        files[-1].write_text(f"File {i} text.")
    started = {f.name: threading.Event() for f in files}
    reader = Reader(files, {}, max_chunks=100, reading=lambda p: started[p.name].set(), ahead=3)
    assert started["s2.txt"].wait(10)  # three read with none taken
    assert not started["s3.txt"].wait(0.5)  # three one-passage files wait: not the fourth
    items = iter(reader)
    assert next(items).chunks[0].text == "File 0 text."
    assert started["s3.txt"].wait(10)  # one taken: room for the fourth
    assert [next(items).chunks[0].text for _ in range(3)][-1] == "File 3 text."
    reader.close()


@pytest.mark.parametrize("name", sorted(QUESTION_SETS))
def test_question_set_is_well_formed(name: str) -> None:
    data = tomllib.loads(QUESTION_SETS[name].read_text(encoding="utf-8"))
    questions = data["question"]
    assert len(questions) >= 40
    paraphrased = sum(1 for q in questions if q["style"] == "paraphrase")
    assert abs(paraphrased - len(questions) / 2) <= 2
    assert {q["style"] for q in questions} == {"literal", "paraphrase"}
    docs = {Path(d).name: Path(d) for d in data["documents"]}
    assert {q["file"] for q in questions} <= set(docs)
    assert len({q["text"] for q in questions}) == len(questions)
    # The R manuals and the Debian Policy Manual are reserved for an independent check.
    assert not any("policy" in d.lower() or "r-doc" in d.lower() for d in data["documents"])
    present = {n: p for n, p in docs.items() if p.exists()}
    if not present:
        pytest.skip(f"the {name} set's manuals are not installed (see .ci/run)")
    import pypdfium2  # type: ignore[import-untyped]

    for name, path in present.items():
        pdf = pypdfium2.PdfDocument(str(path))
        try:
            pages = len(pdf)
        finally:
            pdf.close()
        assert all(1 <= p <= pages for q in questions if q["file"] == name for p in q["pages"])
