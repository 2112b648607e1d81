"""Collection names as typed: any name is kept as given and keyed safely on disk; the
names Carrel accepted before keep their own folders; a spaced, accented name is created,
indexed, searched, and found again after the process starts over; an ingest tells each
file's state as it moves (queued, reading, embedding, its outcome)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Paths
from app.rag.embedder import SentenceEmbedder
from app.rag.errors import BadCollectionNameError
from app.rag.naming import MAX_NAME, check_name, collection_key
from app.rag.outcome import IngestProgress
from app.rag.service import Documents
from app.store import Store
from tests.support.files import make_pdf


def test_old_style_names_are_their_own_key() -> None:
    for name in ("atlas", "kb-2", "notes_v1.2", "A"):
        assert collection_key(name) == name


def test_any_other_name_gets_a_safe_distinct_key() -> None:
    names = [
        "Field notes",
        "field-notes!",
        "Notes d'été — 2026",
        "研究資料",
        "../../etc",
        ".hidden",
    ]
    keys = [collection_key(n) for n in names]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert key == collection_key(key)  # a key is a plain name: stable, no surprises
        assert "/" not in key and not key.startswith(".") and len(key) <= 64
    assert keys[0].startswith("field-notes-")
    assert keys[2].startswith("notes-d-ete-2026-")
    assert keys[3].startswith("collection-")  # no ASCII to slug: still a safe key
    assert collection_key("Field notes") == keys[0]  # the same name, the same key


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" padded", "space"),
        ("a\nb", "control"),
        ("x" * (MAX_NAME + 1), "longer"),
    ],
)
def test_names_that_cannot_be_used_say_why(name: str, why: str) -> None:
    with pytest.raises(BadCollectionNameError, match=why):
        check_name(name)


def test_a_spaced_name_is_indexed_searched_and_reopened(
    carrel_home: Path, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    name = "Field notes — été 2026"
    doc = tmp_path / "cedars.md"
    doc.write_text("# Cedars\n\nThe Atlas cedar grows on limestone slopes.\n", encoding="utf-8")
    paths = Paths.under(carrel_home).ensure()
    store = Store(paths.database)
    docs = Documents(paths, store, embedder)
    docs.add([doc], name)
    docs.add([doc], "plain")  # an old-style name beside it keeps its own folder
    assert docs.folder(name) == paths.data_dir / "index" / collection_key(name)
    assert docs.folder(name).is_dir() and (paths.data_dir / "index" / "plain").is_dir()
    assert [c.name for c in docs.collections()] == sorted([name, "plain"])
    docs.close()
    store.close()

    store = Store(paths.database)  # a new process: the name and its files are found again
    docs = Documents(paths, store, embedder)
    hits = docs.search("Which trees grow on limestone?", name, k=3)
    assert hits and hits[0].source == str(doc.resolve())
    assert [f.status for f in docs.files(name)] == ["indexed"]
    docs.drop(name)
    assert not docs.folder(name).exists()
    assert [c.name for c in docs.collections()] == ["plain"]
    docs.close()
    store.close()


def test_each_file_moves_queued_reading_embedding_then_its_outcome(
    documents: Documents, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nAlpha notes about rivers.\n", encoding="utf-8")
    (folder / "b.pdf").write_bytes(make_pdf([["Bravo page one about deserts."], ["Two."]]))
    (folder / "c.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")  # damaged
    events: list[IngestProgress] = []
    documents.add([folder], "live", progress=events.append)
    states: dict[str, list[str]] = {}
    for e in events:
        if e.event == "files":
            for source in e.sources:
                states.setdefault(Path(source).name, []).append(e.file_state)
    assert states["a.md"] == ["queued", "reading", "embedding", "indexed"]
    assert states["b.pdf"] == ["queued", "reading", "embedding", "indexed"]
    assert states["c.pdf"] == ["queued", "reading", "failed"]
    # Every file is queued at once, before any is read.
    first = next(e for e in events if e.event == "files")
    assert first.file_state == "queued" and len(first.sources) == 3
    again: list[IngestProgress] = []
    documents.add([folder], "live", progress=again.append)  # unchanged: nothing read
    moved = [(Path(s).name, e.file_state) for e in again if e.event == "files" for s in e.sources]
    assert ("a.md", "unchanged") in moved and ("a.md", "reading") not in moved
