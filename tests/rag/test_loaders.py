"""Loaders and chunker on real files: formats, encodings, and bad input."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import pytest

from app.rag.chunker import Chunker
from app.rag.errors import DocumentTooLargeError, UnreadableDocumentError
from app.rag.loaders import LOADERS, MAX_BYTES, load
from app.rag.loaders.base import MAX_WHOLE_FILE_BYTES
from app.rag.loaders.text import load_text
from tests.support.files import REAL_HTML, REAL_PDF, make_pdf, make_zip_bomb


def texts(path: Path) -> str:
    return "\n".join(s.text for s in load(path))


def test_each_format_yields_its_text_with_location(corpus: Path) -> None:
    pdf = list(load(corpus / "atlas.pdf"))
    assert [s.page for s in pdf] == [1, 2, 3]
    assert "macaques" in pdf[0].text and "needs OCR" in pdf[1].problem
    docx = list(load(corpus / "tea.docx"))
    soil = next(s for s in docx if "acidic" in s.text)
    assert soil.heading == ("Tea growing guide", "Soil")
    assert any("FTGFOP | tippy golden" in s.text for s in docx)
    html = list(load(corpus / "page.html"))
    assert html[0].heading == ("Bicycles", "Gears")
    joined = " ".join(s.text for s in html)
    assert "derailleur" in joined
    assert "zzscriptzz" not in joined and "zznavzz" not in joined and "zzfooterzz" not in joined
    md = list(load(corpus / "notes.md"))
    assert next(s for s in md if "rye" in s.text).heading == ("Sourdough", "Starter")
    assert any("# not a heading" in s.text for s in md)
    assert "albatross" in texts(corpus / "birds.csv")
    assert "species: wren; wingspan_cm: 15" in texts(corpus / "birds.csv")
    assert texts(corpus / "latin1.txt") == "Crème brûlée needs a blowtorch."
    assert texts(corpus / "utf16.txt") == "Kangaroos can hop at 70 km/h."


def test_email_headers_body_and_attachments(corpus: Path) -> None:
    sections = list(load(corpus / "mail.eml"))
    joined = " ".join(s.text for s in sections)
    assert "Subject: Quarterly lighthouse report" in joined
    assert "LED unit" in joined
    storm = next(s for s in sections if "41 storms" in s.text)
    assert storm.heading == ("Quarterly lighthouse report", "logbook.pdf")
    assert storm.page == 1
    assert any("fog horn" in s.text for s in sections)


def test_mbox_pages_are_messages(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(
        b"From a@x Mon Jan  1 00:00:00 2026\nSubject: one\n\nfirst body\n\n"
        b"From b@x Mon Jan  1 00:00:00 2026\nSubject: two\n\n>From the start, second body\n"
    )
    sections = [s for s in load(box) if "body" in s.text]
    assert [(s.page, s.heading) for s in sections] == [(1, ("one",)), (2, ("two",))]
    assert sections[1].text.startswith("From the start")


def test_bad_inputs_say_why(tmp_path: Path) -> None:
    pdf = make_pdf([["some text"]])
    (tmp_path / "locked.pdf").write_bytes(make_pdf([["secret"]], encrypted=True))
    (tmp_path / "cut.pdf").write_bytes(pdf[: len(pdf) // 2])
    (tmp_path / "blob.txt").write_bytes(os.urandom(4096))
    (tmp_path / "nul.txt").write_bytes(b"abc\0\0\0\x01\x02def" * 100)
    make_zip_bomb(tmp_path / "bomb.docx")
    with pytest.raises(UnreadableDocumentError, match="encrypted"):
        list(load(tmp_path / "locked.pdf"))
    with pytest.raises(UnreadableDocumentError, match="truncated or damaged"):
        list(load(tmp_path / "cut.pdf"))
    for name in ("blob.txt", "nul.txt"):
        with pytest.raises(UnreadableDocumentError, match="binary data"):
            list(load(tmp_path / name))
    with pytest.raises(DocumentTooLargeError, match="zip bomb"):
        list(load(tmp_path / "bomb.docx"))
    (tmp_path / "empty.txt").write_bytes(b"")
    assert list(load(tmp_path / "empty.txt")) == []


def test_single_line_log_streams_in_bounded_pieces() -> None:
    size = 20 * 1024 * 1024
    line = b"2026-11-02T10:00:00 GET /index.html 200 " * (size // 40)
    tracemalloc.start()
    count = 0
    longest = 0
    total = 0
    for section in load_text(io.BytesIO(line), "big.log"):
        count += 1
        longest = max(longest, len(section.text))
        total += len(section.text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert longest <= 8_000 and count > 2_000
    assert total >= 0.99 * len(line)
    # The 20 MB input itself is held by BytesIO; the loader adds a few MB at most.
    assert peak < 24 * 1024 * 1024


def test_chunks_follow_headings_pages_and_size() -> None:
    pages = [[f"Sentence {p}-{i} about topic {p}." for i in range(60)] for p in range(1, 5)]
    from app.rag.loaders.pdf import load_pdf

    chunks = list(Chunker().chunks(load_pdf(io.BytesIO(make_pdf(pages)), "x.pdf")))
    assert all(c.words <= 230 for c in chunks)
    assert chunks[0].page == 1
    assert any(c.page_end is not None and c.page_end > (c.page or 0) for c in chunks)
    assert {c.page_end for c in chunks} >= {4}
    # Overlap: the start of each passage repeats the end of the previous one.
    assert chunks[1].text.split()[:5] == chunks[0].text.split()[-30:-25]


@pytest.mark.skipif(not REAL_PDF.exists(), reason="apt package gutenprint-doc not installed")
def test_real_debian_documents() -> None:
    pdf_chunks = list(Chunker().chunks(load(REAL_PDF)))
    assert len(pdf_chunks) > 100
    assert max(c.page_end or 0 for c in pdf_chunks) > 60
    html_chunks = list(Chunker().chunks(load(REAL_HTML)))
    assert any(len(c.heading) >= 2 for c in html_chunks)


@pytest.mark.parametrize("suffix", sorted(LOADERS))
def test_every_format_is_refused_past_its_size_before_it_is_read(
    tmp_path: Path, suffix: str
) -> None:
    """A 1.5 GB .eml peaked at 5.8 GB of memory before it was refused; now a file past its
    format's cap is refused by its size alone (the files here are sparse: reading one
    would take minutes)."""
    big = tmp_path / f"big{suffix}"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES[LOADERS[suffix]] + 1)
    with pytest.raises(DocumentTooLargeError, match=r"too large to index .* MB; at most"):
        next(iter(load(big)))


def test_one_huge_message_refuses_a_mailbox(tmp_path: Path) -> None:
    box = tmp_path / "huge.mbox"
    line = b"x" * 1023 + b"\n"
    with box.open("wb") as f:
        f.write(b"From a@example.org Mon Nov  2 10:00:00 2026\nSubject: big\n\n")
        for _ in range(MAX_WHOLE_FILE_BYTES // len(line) + 2):
            f.write(line)
    with pytest.raises(DocumentTooLargeError, match="a message past"):
        list(load(box))
