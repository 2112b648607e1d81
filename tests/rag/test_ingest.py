"""Ingest end to end with the real embedder and the real Qdrant Edge engine."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from app.config import Paths
from app.rag import pipeline, reuse
from app.rag.embedder import SentenceEmbedder
from app.rag.errors import CollectionNotFoundError, EmbedderMismatchError
from app.rag.index import EdgeIndex, IndexPoint
from app.rag.outcome import IngestProgress
from app.rag.service import Documents
from app.store import Store
from tests.support.files import REAL_HTML, make_pdf, make_zip_bomb


def agree(docs: Documents, collection: str) -> None:
    """The index (and its sentence store, for a representation with sentence vectors) hold
    exactly the recorded chunks of the recorded version of each file."""
    index = docs.index(collection)
    assert isinstance(index, EdgeIndex)
    in_index = index.sources()
    recorded = {(f.source, f.hash): f.chunks for f in docs.records.files(collection) if f.chunks}
    assert in_index == recorded
    record = docs.records.collection(collection)
    assert record is not None
    with_sentences = record.representation in ("sentences", "late")
    assert index.sentences.sources() == (recorded if with_sentences else {})


def test_corpus_and_bad_inputs(documents: Documents, corpus: Path) -> None:
    pdf = make_pdf([["fine"]])
    (corpus / "locked.pdf").write_bytes(make_pdf([["secret"]], encrypted=True))
    (corpus / "cut.pdf").write_bytes(pdf[: len(pdf) // 2])
    (corpus / "zero.txt").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(os.urandom(2048))
    (corpus / "scan.pdf").write_bytes(make_pdf([None, None]))
    make_zip_bomb(corpus / "bomb.docx")
    events: list[IngestProgress] = []
    report = documents.add([corpus], "kb", progress=lambda p: events.append(p))
    by_name = {Path(f.source).name: f for f in report.files}
    assert {n for n, f in by_name.items() if f.status == "indexed"} == {
        "atlas.pdf", "tea.docx", "page.html", "notes.md", "birds.csv", "latin1.txt",
        "utf16.txt", "mail.eml",
    }  # fmt: skip
    assert "encrypted" in by_name["locked.pdf"].reason
    assert "truncated or damaged" in by_name["cut.pdf"].reason
    assert "holds no text" in by_name["zero.txt"].reason
    assert "binary data" in by_name["blob.txt"].reason
    assert "zip bomb" in by_name["bomb.docx"].reason
    assert by_name["scan.pdf"].status == "needs_ocr"
    assert "page(s) need OCR" in by_name["atlas.pdf"].reason
    assert events[-1].event == "done" and events[-1].files_done == len(by_name)
    assert any(e.eta_s is not None for e in events)
    agree(documents, "kb")

    hits = documents.search("What is the height of Toubkal?", "kb", k=3)
    assert Path(hits[0].source).name == "atlas.pdf"
    assert (hits[0].page, hits[0].page_end) == (1, 3)  # one passage across the three pages
    hits = documents.search("how many storms did the keeper log", "kb", k=3)
    assert Path(hits[0].source).name == "mail.eml"
    assert "logbook.pdf" in hits[0].heading
    hits = documents.search("soil acidity for tea plants", "kb", k=3, mode="dense")
    assert Path(hits[0].source).name == "tea.docx" and "Soil" in hits[0].heading
    only = documents.search("tea", "kb", k=5, files=[str(corpus / "birds.csv")])
    assert {Path(h.source).name for h in only} == {"birds.csv"}
    assert documents.files("kb")[0].collection == "kb"


def three_notes(folder: Path) -> Path:
    folder.mkdir()
    for i in range(3):
        (folder / f"n{i}.txt").write_text(f"Note {i}: the code word is alpha{i}.")
    return folder


def test_reingest_change_delete_and_remove(documents: Documents, tmp_path: Path) -> None:
    folder = three_notes(tmp_path / "f")
    first = documents.add([folder], "c")
    assert first.count("indexed") == 3
    again = documents.add([folder], "c")
    assert again.count("unchanged") == 3 and again.chunks == 0
    (folder / "n0.txt").write_text("Note 0 now says the code word is omega.")
    (folder / "n1.txt").unlink()
    os.utime(folder / "n2.txt")  # touched, same content: still unchanged
    third = documents.add([folder], "c")
    status = {Path(f.source).name: f.status for f in third.files}
    assert status == {"n0.txt": "indexed", "n2.txt": "unchanged", "n1.txt": "removed"}
    agree(documents, "c")
    assert (
        "omega" in documents.search("code word", "c", k=1, files=[str(folder / "n0.txt")])[0].text
    )
    assert documents.remove(folder / "n2.txt", "c")
    assert [Path(f.source).name for f in documents.files("c")] == ["n0.txt"]
    agree(documents, "c")
    documents.drop("c")
    with pytest.raises(CollectionNotFoundError):
        documents.files("c")
    # Shard and store gone; the collection's lock file stays (another process may be
    # waiting on it: deleting it would let two processes think they hold the collection).
    left = sorted(p.name for p in documents.index_root.iterdir())
    assert left == [".lock-c"]


def test_files_read_by_an_older_carrel_are_read_again_when_added_again(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = three_notes(tmp_path / "f")
    first = documents.add([folder], "c")
    assert first.count("indexed") == 3
    monkeypatch.setattr(pipeline, "READING", pipeline.READING + 1)  # a Carrel that reads anew
    again = documents.add([folder], "c")
    assert again.count("indexed") == 3 and again.chunks == first.chunks
    assert all(f.hash.endswith(f"-r{pipeline.READING}") for f in documents.files("c"))
    agree(documents, "c")  # the old reading's points are gone, not left beside the new
    assert (
        "alpha1" in documents.search("code word", "c", k=1, files=[str(folder / "n1.txt")])[0].text
    )
    assert documents.add([folder], "c").count("unchanged") == 3


def test_a_new_reading_takes_the_vectors_of_passages_embedded_alike(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = three_notes(tmp_path / "f")
    first = documents.add([folder], "c")
    before = {h.text: h.score for h in documents.search("code word alpha1", "c", k=3)}
    monkeypatch.setattr(pipeline, "READING", pipeline.READING + 1)
    again = documents.add([folder], "c")
    assert again.count("indexed") == 3 and again.reused == again.chunks == first.chunks
    assert {h.text: h.score for h in documents.search("code word alpha1", "c", k=3)} == before
    agree(documents, "c")
    # A version indexed before passages were embedded as now lends nothing.
    monkeypatch.setattr(reuse, "EMBEDDED_SINCE", pipeline.READING + 1)
    monkeypatch.setattr(pipeline, "READING", pipeline.READING + 1)
    assert documents.add([folder], "c").reused == 0


def test_a_moved_folder_takes_the_vectors_its_files_had(
    documents: Documents, tmp_path: Path
) -> None:
    first = documents.add([three_notes(tmp_path / "f")], "c")
    (tmp_path / "f").rename(tmp_path / "moved")
    moved = documents.add([tmp_path / "moved"], "c")
    assert moved.count("indexed") == 3 and moved.reused == moved.chunks == first.chunks
    hit = documents.search("code word", "c", k=1, files=[str(tmp_path / "moved" / "n2.txt")])
    assert "alpha2" in hit[0].text
    agree(documents, "c")


def test_copies_added_together_are_embedded_once(documents: Documents, tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text("The ferry to the island leaves at seven from pier four.")
    report = documents.add([folder], "c")
    assert report.count("indexed") == 3 and (report.chunks, report.reused) == (3, 2)
    assert len(documents.search("when does the ferry leave", "c", k=3)) == 3
    agree(documents, "c")


def test_a_passage_that_comes_again_later_in_a_group_takes_the_first_s_vectors(
    documents: Documents, tmp_path: Path
) -> None:
    notes = tmp_path / "minutes.md"
    notes.write_text("\n\n".join(["## Apologies\n\n" + "None were received this week. " * 40] * 4))
    together = documents.add([notes], "one call")  # the group's passages in one call
    documents.batch = 2  # the same in calls of two passages
    report = documents.add([notes], "c")
    assert report.chunks == together.chunks == 8 and report.reused == together.reused > 0
    texts = {h.text: round(h.score, 6) for h in documents.search("apologies received", "c")}
    assert texts == {
        h.text: round(h.score, 6) for h in documents.search("apologies received", "one call")
    }
    agree(documents, "c")


def test_an_edited_file_embeds_only_the_passages_that_changed(
    documents: Documents, tmp_path: Path
) -> None:
    report = tmp_path / "report.md"
    sections = [
        f"## Part {i}\n\n" + f"Finding {i} about the harbour survey. " * 40 for i in range(6)
    ]
    report.write_text("\n\n".join(sections))
    first = documents.add([report], "c")
    assert first.chunks >= 6 and first.reused == 0
    sections[2] = "## Part 2\n\nThe dredging found a wreck under the north quay."
    report.write_text("\n\n".join(sections))
    edited = documents.add([report], "c")
    assert edited.count("indexed") == 1
    assert 0 < edited.reused < edited.chunks  # the other parts were not embedded again
    assert "wreck" in documents.search("what lies under the north quay", "c", k=1)[0].text
    agree(documents, "c")


def test_file_deleted_while_ingesting_and_cancel(documents: Documents, tmp_path: Path) -> None:
    folder = tmp_path / "g"
    folder.mkdir()
    for i in range(4):
        (folder / f"d{i}.md").write_text(f"# Doc {i}\n\nBody {i} " + "word " * 300)

    def on_progress(p: IngestProgress) -> None:
        # d1 goes while d0 is being embedded: the reader, one file ahead, must not have
        # read it yet.
        if p.event == "start" and p.current.endswith("d0.md"):
            (folder / "d1.md").unlink()

    report = documents.add([folder], "g", progress=on_progress)
    d1 = next(f for f in report.files if f.source.endswith("d1.md"))
    # Deleted before the read-ahead reached it, or while it read it: both say so.
    assert d1.status == "failed" and "was deleted" in d1.reason
    assert report.count("indexed") == 3

    cancel = threading.Event()
    (folder / "d0.md").write_text("# Changed\n\n" + "other " * 500)

    def stop_on_batch(p: IngestProgress) -> None:
        if p.event == "batch":
            cancel.set()

    documents.batch = 1
    cancelled = documents.add([folder], "g", progress=stop_on_batch, cancel=cancel)
    assert cancelled.cancelled
    agree(documents, "g")  # the old d0 is intact, nothing of the new one
    assert "Body 0" in documents.search("Body 0", "g", k=1, mode="bm25")[0].text


def test_small_files_are_embedded_together(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(20):
        (folder / f"n{i:02}.txt").write_text(f"Note {i} is about bird {i}.")
    (folder / "n05.bin.txt").write_bytes(os.urandom(512))  # fails among them, alone
    calls: list[int] = []
    embed, spans = documents.embedder.embed, getattr(documents.embedder, "embed_spans", None)
    monkeypatch.setattr(documents.embedder, "embed", lambda t: calls.append(len(t)) or embed(t))
    if spans is not None:  # the "late" representation: one pass gives passage and sentences
        monkeypatch.setattr(
            documents.embedder, "embed_spans", lambda t, s: calls.append(len(t)) or spans(t, s)
        )
    documents.batch = 8
    report = documents.add([folder], "notes")
    assert report.count("indexed") == 20 and report.count("failed") == 1
    # In the folder's order, the failure where it was met, not after its group.
    assert [Path(f.source).name for f in report.files] == sorted(p.name for p in folder.iterdir())
    assert len(calls) == 3  # 8 + 8 + 4 passages, not 20 calls
    agree(documents, "notes")
    assert documents.search("bird 13", "notes", k=1, mode="bm25")[0].source.endswith("n13.txt")

    # Cancelled after the first group: that group is in whole, the rest keeps its old version.
    before = {Path(f.source).name: f.hash for f in documents.records.files("notes")}
    for i in range(20):
        (folder / f"n{i:02}.txt").write_text(f"Note {i} now tells of fish {i}.")
    cancel = threading.Event()

    def stop_on_batch(p: IngestProgress) -> None:
        if p.event == "batch":
            cancel.set()

    cancelled = documents.add([folder], "notes", progress=stop_on_batch, cancel=cancel)
    assert cancelled.cancelled and cancelled.count("indexed") == 8
    agree(documents, "notes")
    after = {Path(f.source).name: f.hash for f in documents.records.files("notes")}
    assert sorted(n for n in after if after[n] != before[n]) == [f"n{i:02}.txt" for i in range(8)]


def test_many_files_removed_at_once(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the Documents page's Remove does for the rows selected: one read of the records
    and one flush for them all (one each per file made 1,000 of 10,000 take 5 minutes)."""
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    for i in range(30):
        (folder / ("sub" if i >= 20 else "") / f"n{i:02}.txt").write_text(f"Note {i}: bird {i}.")
    (tmp_path / "elsewhere.txt").write_text("Note x: a fish.")
    documents.add([folder, tmp_path / "elsewhere.txt"], "notes")
    flushes: list[int] = []
    index = documents.index("notes")
    flush = index.flush
    monkeypatch.setattr(index, "flush", lambda: flushes.append(1) or flush())
    chosen = [folder / f"n{i:02}.txt" for i in range(0, 20, 2)] + [folder / "sub"]
    removed = documents.remove_all([*chosen, folder / "never-added.txt", chosen[0]], "notes")
    assert len(flushes) == 1
    assert [Path(s).name for s in removed] == [
        *(f"n{i:02}.txt" for i in range(0, 20, 2)),
        *(f"n{i:02}.txt" for i in range(20, 30)),
    ]
    left = sorted(Path(f.source).name for f in documents.files("notes"))
    assert left == sorted([*(f"n{i:02}.txt" for i in range(1, 20, 2)), "elsewhere.txt"])
    agree(documents, "notes")
    assert documents.records.pending("notes") == []  # nothing left to prune
    hits = documents.search("bird 4", "notes", k=30, mode="bm25")
    assert not {Path(h.source).name for h in hits} & {Path(s).name for s in removed}
    assert documents.remove_all([folder / "n00.txt"], "notes") == []  # already out


def test_a_folder_of_notes_is_recorded_a_group_at_a_time(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files embedded together are recorded together: a few transactions for each
    group of them (adds begun, files recorded, older versions' marks cleared), not three
    for each file; a group's adds are begun before any of its points go in."""
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(300):
        (folder / f"n{i:03}.txt").write_text(f"Note {i}: a heron at lock {i}.")
    documents.index("notes", create=True)
    store = documents.records.store
    transactions: list[int] = []
    transaction = store.transaction
    monkeypatch.setattr(store, "transaction", lambda: transactions.append(1) or transaction())
    index = documents.index("notes")
    upsert = index.upsert
    upserted: set[str] = set()

    def upsert_after_begin(points: list[IndexPoint]) -> None:
        begun = {source for source, _, kind in documents.records.pending("notes") if kind == "add"}
        sources = {str(p.payload["source"]) for p in points}
        assert sources <= begun
        upserted.update(sources)
        upsert(points)

    monkeypatch.setattr(index, "upsert", upsert_after_begin)
    report = documents.add([folder], "notes")
    assert report.count("indexed") == 300 and len(upserted) == 300
    assert len(transactions) <= 3 * 2 + 2  # 300 one-passage files: two groups of <= 256
    assert len(documents.files("notes")) == 300
    assert documents.records.pending("notes") == []
    agree(documents, "notes")


def test_collection_keeps_its_embedder(
    carrel_home: Path, documents: Documents, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("hello there")
    documents.add([tmp_path / "a.txt"], "e")
    documents.close()

    class Other(SentenceEmbedder):
        pass

    # Another default embedder: the collection is still searched with its own.
    other = Other(name="another-model", dim=384)
    docs2 = Documents(documents.paths, documents.records.store, other)
    assert docs2.search("hello", "e")[0].text == "hello there"
    # A collection whose model is gone says so, and what to do.
    docs2.records.create_collection("gone", "vanished.gguf", 384, "late")
    with pytest.raises(EmbedderMismatchError, match="choose another embedder"):
        docs2.search("hello", "gone")
    docs2.close()


@pytest.mark.skipif(not REAL_HTML.exists(), reason="apt package debian-reference-en missing")
def test_reopen_and_search_real_document(carrel_home: Path, embedder: SentenceEmbedder) -> None:
    paths = Paths.under(carrel_home).ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    report = docs.add([REAL_HTML], "ref")
    assert report.count("indexed") == 1 and report.chunks > 20
    docs.close()
    store.close()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    hits = docs.search("where do I report a bug in a Debian package", "ref", k=5)
    assert hits and all(h.source == str(REAL_HTML) for h in hits)
    agree(docs, "ref")
    docs.close()
    store.close()


def test_a_large_ingest_builds_hnsw_in_steps_and_says_so(
    documents: Documents, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for f in range(2):
        paragraphs = [f"File {f} paragraph {i} on herons and kestrels. " * 30 for i in range(40)]
        (folder / f"f{f}.txt").write_text("\n\n".join(paragraphs))
    index = documents.index("steps", create=True)
    assert isinstance(index, EdgeIndex)
    index.hnsw_threshold = 20  # a step every 20 passages instead of 50k
    events: list[str] = []  # the ingest reuses one progress object: keep each event
    report = documents.add([folder], "steps", progress=lambda p: events.append(p.event))
    assert report.count("indexed") == 2
    assert "indexing" in events
    assert not index.indexing  # each step was waited for: none left running
    assert index.hnsw_points >= 20
    agree(documents, "steps")
    assert "heron" in documents.search("herons", "steps", k=1)[0].text
