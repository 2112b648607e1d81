"""PDF text per page with pypdfium2 (Apache/BSD; ~200 pages/s here, 10× pypdf).

A page that is only an image has no text layer. When the `tesseract` program is on PATH
(optional, never required), such a page is rendered in grey at 300 dpi and its text read
by Tesseract; that text goes under the heading `OCR_HEADING`, so its passages and citations
say where it came from. Without Tesseract, or when it reads nothing, the page is reported
as needing OCR.

A PDF with an outline (bookmarks) names the section of every passage, in its citations
and for BM25 (`app.rag.loaders.outline`); one without takes its titles from their type
size (`app.rag.loaders.typeset`). The text and its passages are the same either way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

from app.rag.errors import UnreadableDocumentError
from app.rag.loaders import typeset
from app.rag.loaders.base import Section, paragraphs
from app.rag.loaders.outline import OutlinePath, read_outline

NEEDS_OCR = "needs OCR (the page is an image with no text layer)"
OCR_HEADING = "Text recognised by OCR"
OCR_DPI = 300
# A page larger than this many pixels at OCR_DPI is rendered at a lower resolution
# (an A4 page at 300 dpi is 8.7 million).
OCR_MAX_PIXELS = 40_000_000
OCR_TIMEOUT_S = 120
# pdfium is not thread-safe (one library-wide state): every call into it, here and in the
# built-in viewer, is made holding this lock, and never across a `yield`.
PDFIUM_LOCK = threading.RLock()


def load_pdf(data: BinaryIO, name: str) -> Iterator[Section]:
    """Text of each page; a page that is only an image is read by Tesseract when it is
    installed, and otherwise yields a 'needs OCR' section."""
    try:
        with PDFIUM_LOCK:
            doc = pypdfium2.PdfDocument(data)
            count = len(doc)
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
    with PDFIUM_LOCK:
        outline = read_outline(doc, count)
    # Without an outline, titles are told by their type size.
    sizes = typeset.TypeSizes() if not outline and typeset.TYPESET_HEADINGS else None
    path = OutlinePath()
    try:
        for index in range(count):
            with PDFIUM_LOCK:  # one page at a time: never held across a yield
                text, how, image, lines = _page_text(doc, index, bool(tesseract), sizes is not None)
            if image is not None and tesseract:  # Tesseract runs without the lock
                text = read_image(image, tesseract)
                how = "ocr" if text.strip() else "needs_ocr"
            if how == "needs_ocr":
                path.skip(outline.get(index, []))
                yield Section("", page=index + 1, problem=NEEDS_OCR)
                continue
            heading = (OCR_HEADING,) if how == "ocr" else ()
            items = sizes.titles(lines) if sizes is not None else outline.get(index, [])
            marks = path.marks(text, items)
            for offset, para in paragraphs([text]):
                yield Section(para, index + 1, heading, offset, outline=marks)
    except pypdfium2.PdfiumError as exc:
        raise UnreadableDocumentError(
            Path(name), f"a page cannot be read ({exc})", "The file may be damaged."
        ) from exc
    finally:
        with PDFIUM_LOCK:
            doc.close()


def _page_text(
    doc: pypdfium2.PdfDocument, index: int, ocr: bool, sized: bool = False
) -> tuple[str, str, tuple[bytes, int] | None, list[typeset.Line]]:
    """A page's text and how it was found: "text" (its text layer, or "" for a blank page)
    or "needs_ocr" (only an image); with `ocr`, such a page also comes back rendered for
    Tesseract (a PGM image and its DPI); when `sized`, its lines with their type sizes."""
    page = doc[index]
    lines: list[typeset.Line] = []
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
            if sized:
                lines = typeset.line_sizes(textpage, raw)
        finally:
            textpage.close()
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        if text.strip() or not _has_images(page):
            return text, "text", None, lines
        return "", "needs_ocr", render_for_ocr(page) if ocr else None, []
    finally:
        page.close()


def _has_images(page: pypdfium2.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def render_for_ocr(page: pypdfium2.PdfPage) -> tuple[bytes, int] | None:
    """The page in grey at `OCR_DPI` (less for a huge page) as a PGM image, and its DPI;
    None when it cannot be rendered. Call it holding `PDFIUM_LOCK`."""
    width, height = page.get_size()
    scale = OCR_DPI / 72
    if width * height * scale * scale > OCR_MAX_PIXELS:
        scale = (OCR_MAX_PIXELS / (width * height)) ** 0.5
    try:
        bitmap = page.render(scale=scale, grayscale=True)
    except pypdfium2.PdfiumError:
        return None
    try:
        image = _pgm(bitmap)
    finally:
        bitmap.close()
    return (image, max(70, round(scale * 72))) if image is not None else None


def read_image(rendered: tuple[bytes, int], tesseract: str) -> str:
    """Tesseract's reading of a rendered page (see `render_for_ocr`); "" if it fails."""
    image, dpi = rendered
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
