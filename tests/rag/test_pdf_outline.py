"""A PDF's outline (bookmarks) names its passages' sections in citations and for BM25,
and changes nothing else: the passages and what is embedded are as without it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.rag import points
from app.rag.chunker import Chunk, Chunker
from app.rag.loaders import outline as outline_module
from app.rag.loaders.pdf import load_pdf
from app.rag.points import bm25_text, payload, shown_heading
from app.rag.reembed import _chunk
from app.rag.service import Documents
from tests.support.files import make_pdf

PAGES = [
    ["1 Introduction", "Lighthouses guide ships past rocks.", "1.1 History",
     "The first lighthouse stood at Pharos in Alexandria."],
    ["Its fire burned for centuries.", "2 Keepers", "Keepers lived on the rock all winter."],
    None,  # an image: the section it starts goes on after it
    ["Fog signals sounded every thirty seconds in thick weather."],
]  # fmt: skip
OUTLINE = [(1, "1 Introduction", 0), (2, "1.1 History", 0), (1, "2 Keepers", 1),
           (1, "3 Signals", 2)]  # fmt: skip


def chunks(data: bytes) -> list[Chunk]:
    return list(Chunker(target=6, maximum=9, overlap=2).chunks(load_pdf(io.BytesIO(data), "x")))


def test_passages_are_named_by_the_section_where_their_own_text_begins() -> None:
    named = chunks(make_pdf(PAGES, outline=OUTLINE))
    first = {c.text.split("\n")[0][:20]: c.outline for c in named}
    assert first["1 Introduction"] == ("1 Introduction",)
    assert first["1.1 History"] == ("1 Introduction", "1.1 History")
    # Page 2 goes on under page 1's last section until its own title.
    assert [c.outline for c in named if "Its fire" in c.text] == [("1 Introduction", "1.1 History")]
    assert [c.outline for c in named if "lived" in c.text] == [("2 Keepers",)]
    # Overlap carried from before a section does not name the passage: its own text does.
    assert [c.outline for c in named if "Fog" in c.text] == [("3 Signals",)]
    assert all(c.heading == () for c in named)  # a document's own markup only


def test_the_outline_changes_no_passage(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_pdf(PAGES, outline=OUTLINE)
    with_outline = chunks(data)
    monkeypatch.setattr(outline_module, "PDF_OUTLINE", False)
    without = chunks(data)
    assert all(c.outline == () for c in without)
    fields = [(c.text, c.page, c.page_end, c.start, c.end, c.heading) for c in without]
    assert [(c.text, c.page, c.page_end, c.start, c.end, c.heading) for c in with_outline] == (
        fields
    )


def test_a_title_not_found_on_its_page_applies_from_the_previous_place() -> None:
    data = make_pdf([["Alpha text here.", "Beta text there."]],
                    outline=[(1, "Alpha", 0), (1, "Nowhere on the page", 0)])  # fmt: skip
    sections = list(load_pdf(io.BytesIO(data), "x"))
    assert sections[0].outline_at(0) == ("Alpha",)
    assert sections[0].outline_at(len("Alpha")) == ("Nowhere on the page",)  # after Alpha's title


def test_a_damaged_outline_is_ignored_not_fatal() -> None:
    data = make_pdf([["Some text."]], outline=[(1, "Lost", 0)])
    broken = data.replace(b"/Dest [", b"/Dest [999 0 R ", 1)  # a destination to no page
    named = chunks(broken)
    assert [c.text for c in named] == ["Some text."] and named[0].outline == ()


def test_the_outline_travels_in_the_payload_and_a_re_embedding() -> None:
    chunk = chunks(make_pdf(PAGES, outline=OUTLINE))[-1]
    carried = payload("x.pdf", "h", 0, chunk)
    assert carried["outline"] == ["3 Signals"] and carried["heading"] == []
    assert _chunk({**carried, "text": chunk.text}).outline == ("3 Signals",)
    assert shown_heading(carried) == "3 Signals"
    assert shown_heading({"outline": ["A"], "heading": ["Text recognised by OCR"]}) == (
        "A › Text recognised by OCR"
    )
    assert "outline" not in payload("x.txt", "h", 0, Chunk("t", None, None, (), 0, 1, 1))


def test_bm25_reads_the_section_the_dense_side_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    carried = {"outline": ["2 Keepers", "2.1 Winter"], "heading": []}
    assert bm25_text("body", carried) == "2 Keepers > 2.1 Winter\nbody"
    ocr = {"outline": ["2 Keepers"], "heading": ["Text recognised by OCR"]}
    assert bm25_text("body", ocr) == "2 Keepers > Text recognised by OCR\nbody"
    monkeypatch.setattr(points, "BM25_OUTLINE", False)  # the switch the bench measured
    assert bm25_text("body", carried) == "body"


def test_a_citation_names_the_section(documents: Documents, tmp_path: Path) -> None:
    filler = [f"Line {n} tells of ships, rocks and the keepers' long watch." for n in range(24)]
    pages = [PAGES[0] + filler, PAGES[1] + filler, None, PAGES[3] + filler]
    (tmp_path / "lights.pdf").write_bytes(make_pdf(pages, outline=OUTLINE))
    assert documents.add([tmp_path / "lights.pdf"], "kb").count("indexed") == 1
    hits = documents.search("fog signals in thick weather", "kb", k=10)
    sections = {"1 Introduction", "1 Introduction › 1.1 History", "2 Keepers", "3 Signals"}
    assert {h.heading for h in hits} <= sections
    assert "lights.pdf p. 4 › 3 Signals" in {h.where for h in hits}
