"""A PDF's pages for the document viewer (`PdfPages`): rendered with pypdfium2 on the GUI
thread (a page at 150 % takes ~10–60 ms), the cited passage's boxes multiplied onto the
page, and kept per (page, scale), so paging back and forth renders nothing twice.

pdfium is not thread-safe, so every call into it holds `PDFIUM_LOCK`, which an ingest's
reader thread takes one page at a time (Tesseract runs outside it): the viewer waits at
most for one page's text.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter, QPixmap

from app.citation import Citation
from app.errors import CarrelError
from app.rag.errors import UnreadableDocumentError
from app.rag.loaders.pdf import PDFIUM_LOCK
from app.ui.citations import find_passage
from app.ui.viewer_text import MARK_COLOR

log = logging.getLogger(__name__)

CACHED_PAGES = 8  # rendered pixmaps kept; a 150 % letter page is ~4 MB
# What rendering a page of a damaged file raises.
PAGE_ERRORS = (pypdfium2.PdfiumError, ValueError)


class PdfPages:
    """An open PDF: its page count, each page as an image at a scale with the passage
    marked (`pixmap`), and the passage's boxes (`find_marks`, `marks`). `close` it."""

    def __init__(self, doc: Any, count: int) -> None:
        self._doc = doc  # a pypdfium2.PdfDocument
        self.count = count
        self._cache: OrderedDict[tuple[int, float], tuple[QPixmap, list[QRect]]] = OrderedDict()
        self._marks: dict[int, list[tuple[float, float, float, float]]] = {}

    @classmethod
    def open(cls, path: Path) -> PdfPages:
        """Raises `UnreadableDocumentError` for an encrypted or invalid PDF, `OSError` for a
        file that cannot be read."""
        try:
            with PDFIUM_LOCK:
                doc = pypdfium2.PdfDocument(str(path))
                count = len(doc)
        except pypdfium2.PdfiumError as exc:
            raise pdf_problem(path, exc) from exc
        return cls(doc, count)

    def close(self) -> None:
        """Close the document and drop its pages."""
        self._cache.clear()
        self._marks.clear()
        with PDFIUM_LOCK:
            self._doc.close()

    def page_width(self, index: int) -> float:
        """Page `index`'s width in PDF points (a letter page's when it cannot be read)."""
        try:
            with PDFIUM_LOCK:
                return float(self._doc.get_page_size(index)[0]) or 612.0
        except pypdfium2.PdfiumError:
            return 612.0

    def find_marks(self, index: int, cited: Citation) -> str:
        """Find the passage on page `index` by its words (and its offset) and keep its boxes
        to mark; a passage that runs on past the page (its `page_end` is later) is followed
        onto the next pages, where its remaining words are marked too. Returns its text as
        found ("" when it is not)."""
        if not cited.text.strip():
            return ""
        words = cited.text.split()
        last = max(index, (cited.page_end or 0) - 1)
        with PDFIUM_LOCK:
            at = cited.start if cited.end > cited.start else None
            found = self._mark_page(index, words, at, cited.source)
            if not found:
                return ""
            shown = [found]
            rest = words[len(found.split()) :]
            page = index + 1
            while rest and page <= min(last, self.count - 1):
                more = self._mark_page(page, rest, None, cited.source)
                if not more:
                    break
                shown.append(more)
                rest = rest[len(more.split()) :]
                page += 1
            return " ".join(shown)

    def _mark_page(self, index: int, words: list[str], at: int | None, source: str) -> str:
        """Mark the longest run of `words` found on page `index` (from offset `at` when
        given); its text, "" when the lead words are not on the page."""
        try:
            page = self._doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_range()
                    offset = _raw_offset(raw, at) if at is not None else None
                    span = find_passage(raw, " ".join(words), offset)
                    if span is None:
                        return ""
                    first = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, span[0])
                    last = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, span[1] - 1)
                    if first < 0 or last < first:
                        return ""
                    n = textpage.count_rects(first, last - first + 1)
                    self._marks[index] = [textpage.get_rect(i) for i in range(n)]
                    return " ".join(raw[span[0] : span[1]].split())
                finally:
                    textpage.close()
            finally:
                page.close()
        except pypdfium2.PdfiumError as exc:  # no mark is no error
            log.info("viewer: no mark on page %d of %s: %s", index + 1, source, exc)
            return ""

    def marks(self, index: int, scale: float) -> list[QRect]:
        """The passage's boxes on page `index` as last rendered at `scale`, in the image's
        logical pixels; none when it was not rendered so."""
        key = (index, scale)
        return list(self._cache[key][1]) if key in self._cache else []

    def pixmap(self, index: int, scale: float, ratio: float) -> tuple[QPixmap, list[QRect]]:
        """Page `index` at `scale` image pixels per point for a screen of pixel ratio
        `ratio`, with the passage marked, and the marks' boxes in logical pixels; from the
        cache when it is there. A damaged page raises one of `PAGE_ERRORS`."""
        key = (index, scale)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with PDFIUM_LOCK:
            image, boxes = self._render(index, scale)
        if boxes:
            painter = QPainter(image)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
            for box in boxes:
                painter.fillRect(box, MARK_COLOR)
            painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        logical = [
            QRect(
                round(b.x() / ratio),
                round(b.y() / ratio),
                round(b.width() / ratio),
                round(b.height() / ratio),
            )
            for b in boxes
        ]
        self._cache[key] = (pixmap, logical)
        while len(self._cache) > CACHED_PAGES:
            self._cache.popitem(last=False)
        return pixmap, logical

    def _render(self, index: int, scale: float) -> tuple[QImage, list[QRect]]:
        """Page `index` at `scale` and the passage's boxes on it. Holding `PDFIUM_LOCK`."""
        page = self._doc[index]
        try:
            bitmap = page.render(scale=scale)
            try:
                image = QImage(
                    bitmap.buffer,
                    bitmap.width,
                    bitmap.height,
                    bitmap.stride,
                    QImage.Format.Format_BGR888,
                ).convertToFormat(QImage.Format.Format_RGB32)  # a copy: the bitmap goes
                convert = bitmap.get_posconv(page)
                boxes = [_box(convert, r) for r in self._marks.get(index, [])]
            finally:
                bitmap.close()
        finally:
            page.close()
        return image, boxes


def pdf_problem(path: Path, exc: Exception) -> CarrelError:
    detail = str(exc)
    log.info("viewer: %s: %s", path, detail)
    if "password" in detail.lower():
        return UnreadableDocumentError(
            path,
            "it is encrypted with a password",
            "Open it in the system viewer, which can ask for the password.",
        )
    return UnreadableDocumentError(
        path,
        "it is not a valid PDF",
        "The file may be truncated or damaged; copy or download it again.",
    )


def _box(convert: Any, rect: tuple[float, float, float, float]) -> QRect:
    """A text box in PDF points (left, bottom, right, top) as a rectangle of the image."""
    left, bottom, right, top = rect
    x0, y0 = convert.to_bitmap(left, top)
    x1, y1 = convert.to_bitmap(right, bottom)
    return QRect(min(x0, x1) - 1, min(y0, y1) - 1, abs(x1 - x0) + 2, abs(y1 - y0) + 2)


def _raw_offset(raw: str, offset: int) -> int:
    """pdfium's index of `offset` in the loader's text of a page, whose CRLFs are LFs."""
    shift = 0
    pos = raw.find("\r\n")
    while pos != -1 and pos - shift < offset:
        shift += 1
        pos = raw.find("\r\n", pos + 2)
    return offset + shift
