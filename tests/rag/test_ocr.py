"""Pages with no text layer: read by Tesseract when it is installed, else 'needs OCR'."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pytest

from app.rag.loaders import load
from app.rag.loaders.pdf import NEEDS_OCR, OCR_HEADING
from app.rag.service import Documents
from tests.support.files import make_pdf

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-eng)",
)

SCANNED = ["The lighthouse keeper counted 41 storms this year.", "Fog horns sound at dawn."]


def scanned_pdf(lines: list[str]) -> bytes:
    """A PDF of two pages: one with a text layer, one that is only a picture of `lines`
    (a text page rendered at 150 dpi and placed back as an image, as a scanner would)."""
    text = pypdfium2.PdfDocument(make_pdf([lines]))
    out = pypdfium2.PdfDocument(make_pdf([["Cover page: the annual report."]]))
    try:
        page = text[0]
        width, height = page.get_size()
        bitmap = page.render(scale=150 / 72, grayscale=True)
        scan = out.new_page(width, height)
        image = pypdfium2.PdfImage.new(out)
        image.set_bitmap(bitmap)
        image.set_matrix(pypdfium2.PdfMatrix().scale(width, height))
        scan.insert_obj(image)
        scan.gen_content()
        for obj in (image, scan, bitmap, page):
            obj.close()
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
    finally:
        out.close()
        text.close()


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(scanned_pdf(SCANNED))
    # The picture page really has no text layer.
    doc = pypdfium2.PdfDocument(path)
    textpage = doc[1].get_textpage()
    assert textpage.get_text_range().strip() == ""
    textpage.close()
    doc.close()
    return path


@needs_tesseract
def test_image_only_page_is_read_by_tesseract(scan: Path) -> None:
    sections = list(load(scan))
    assert [s.problem for s in sections] == ["" for _ in sections]
    first = [s for s in sections if s.page == 1]
    second = [s for s in sections if s.page == 2]
    assert first[0].text.startswith("Cover page") and first[0].heading == ()
    text = " ".join(s.text for s in second)
    assert "lighthouse keeper counted 41 storms" in text and "Fog horns" in text
    assert all(s.heading == (OCR_HEADING,) for s in second)


def test_without_tesseract_the_page_needs_ocr(
    scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    sections = list(load(scan))
    assert sections[0].page == 1 and sections[0].text.startswith("Cover page")
    assert [(s.page, s.problem) for s in sections[1:]] == [(2, NEEDS_OCR)]


@needs_tesseract
def test_a_picture_without_words_still_needs_ocr(tmp_path: Path) -> None:
    path = tmp_path / "photo.pdf"
    path.write_bytes(make_pdf([None]))  # a plain coloured square
    assert [(s.page, s.problem) for s in load(path)] == [(1, NEEDS_OCR)]


@needs_tesseract
def test_ocr_text_is_indexed_and_cited(documents: Documents, scan: Path) -> None:
    report = documents.add([scan], "scans")
    [outcome] = report.files
    assert outcome.status == "indexed" and outcome.pages == 2
    hits = documents.search("How many storms did the lighthouse keeper count?", "scans", k=2)
    assert hits[0].page == 2 and hits[0].heading == OCR_HEADING
    assert "41 storms" in hits[0].text
