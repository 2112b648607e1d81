"""PDF text per page with pypdfium2 (Apache/BSD; ~200 pages/s here, 10× pypdf).

A page that is only an image has no text layer. When the `tesseract` program is on PATH
(optional, never required), such a page is rendered in grey at 300 dpi and its text read
by Tesseract; that text goes under the heading `OCR_HEADING`, so its passages and citations
say where it came from. Without Tesseract, or when it reads nothing, the page is reported
as needing OCR.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

from app.rag.errors import UnreadableDocumentError
from app.rag.loaders.base import Section, paragraphs

NEEDS_OCR = "needs OCR (the page is an image with no text layer)"
OCR_HEADING = "Text recognised by OCR"
OCR_DPI = 300
# A page larger than this many pixels at OCR_DPI is rendered at a lower resolution
# (an A4 page at 300 dpi is 8.7 million).
OCR_MAX_PIXELS = 40_000_000
OCR_TIMEOUT_S = 120


def load_pdf(data: BinaryIO, name: str) -> Iterator[Section]:
    """Text of each page; a page that is only an image is read by Tesseract when it is
    installed, and otherwise yields a 'needs OCR' section."""
    try:
        doc = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        detail = str(exc)
        if "password" in detail.lower():
            raise UnreadableDocumentError(
                Path(name),
                "it is encrypted with a password",
                "Save an unprotected copy and add that instead.",
            ) from exc
        raise UnreadableDocumentError(
            Path(name),
            f"it is not a valid PDF ({detail})",
            "The file may be truncated or damaged; copy or download it again.",
        ) from exc
    tesseract = shutil.which("tesseract")
    try:
        for index in range(len(doc)):
            page = doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
                text = text.replace("\r\n", "\n").replace("\r", "\n")
                if text.strip():
                    for offset, para in paragraphs([text]):
                        yield Section(para, page=index + 1, start=offset)
                elif _has_images(page):
                    text = ocr_page(page, tesseract) if tesseract else ""
                    if text.strip():
                        for offset, para in paragraphs([text]):
                            yield Section(
                                para, page=index + 1, heading=(OCR_HEADING,), start=offset
                            )
                    else:
                        yield Section("", page=index + 1, problem=NEEDS_OCR)
            finally:
                page.close()
    except pypdfium2.PdfiumError as exc:
        raise UnreadableDocumentError(
            Path(name), f"a page cannot be read ({exc})", "The file may be damaged."
        ) from exc
    finally:
        doc.close()


def _has_images(page: pypdfium2.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def ocr_page(page: pypdfium2.PdfPage, tesseract: str) -> str:
    """The page's text as Tesseract reads it from a greyscale rendering; "" if it fails."""
    width, height = page.get_size()
    scale = OCR_DPI / 72
    if width * height * scale * scale > OCR_MAX_PIXELS:
        scale = (OCR_MAX_PIXELS / (width * height)) ** 0.5
    try:
        bitmap = page.render(scale=scale, grayscale=True)
    except pypdfium2.PdfiumError:
        return ""
    try:
        image = _pgm(bitmap)
    finally:
        bitmap.close()
    if image is None:
        return ""
    dpi = max(70, round(scale * 72))
    # One thread: the machine's cores belong to the embedder and the other work.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            [tesseract, "stdin", "stdout", "--dpi", str(dpi)],
            input=image,
            capture_output=True,
            timeout=OCR_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if done.returncode != 0:
        return ""
    return done.stdout.decode("utf-8", "replace").replace("\f", "\n")


def _pgm(bitmap: pypdfium2.PdfBitmap) -> bytes | None:
    """A one-byte-per-pixel bitmap as a binary PGM image, which Tesseract reads from stdin."""
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    if bitmap.n_channels != 1:
        return None
    raw = bytes(bitmap.buffer)
    pixels = (
        raw
        if stride == width
        else b"".join(raw[row * stride : row * stride + width] for row in range(height))
    )
    return b"P5\n%d %d\n255\n" % (width, height) + pixels
