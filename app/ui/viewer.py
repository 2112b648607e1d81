"""`DocumentViewer`: a cited document shown inside Carrel, at the cited page, with the cited
passage marked; the desktop's own viewer is one button away.

PDF pages are rendered with pypdfium2 on the GUI thread (a page at 150 % takes ~10–60 ms)
and kept per (page, zoom), so paging back and forth renders nothing twice. pdfium is not
thread-safe, so every call into it holds `PDFIUM_LOCK`, which an ingest's reader thread
takes one page at a time (Tesseract runs outside it): the viewer waits at most for one
page's text. Every other
format is shown as Carrel's loaders read it (`app.rag.loaders.load`), at most
`MAX_SHOWN_CHARS` of it, with the passage selected. `viewer_for(widget)` gives the one
viewer of a window, made on first use.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
from PySide6.QtCore import QRect, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import CarrelError
from app.rag.errors import UnreadableDocumentError
from app.rag.loaders import Section, load
from app.rag.loaders.pdf import PDFIUM_LOCK
from app.rag.retrieve import Citation
from app.ui.citations import PAGED_SUFFIXES, citation_url, find_passage, open_source

log = logging.getLogger(__name__)

# A text document is shown up to this many characters (a few MB); the rest is one click away.
MAX_SHOWN_CHARS = 2_000_000
MAX_BOLD_HEADINGS = 2_000
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.25, 6.0
CACHED_PAGES = 8  # rendered pixmaps kept; a 150 % letter page is ~4 MB
PAGE_MARGIN = 12  # pixels around a page in the scroll area
MARK_COLOR = QColor(255, 214, 0)  # multiplied onto the page, as a highlighter pen does
PROBLEM_STYLE = "color: #8a1c12;"
NOTE_STYLE = "color: #5f6b7a;"
VIEWER_NAME = "carrelDocumentViewer"


@dataclass(frozen=True)
class Cited:
    """What a viewer needs of a citation: the file, its page range, the passage and its
    offsets (`start`/`end` as the chunker gives them: in the page for a paged document, in
    the whole text otherwise; both 0 when unknown)."""

    source: str
    page: int | None = None
    page_end: int | None = None
    text: str = ""
    start: int = 0
    end: int = 0
    heading: str = ""

    @classmethod
    def of(cls, citation: Citation | Mapping[str, object]) -> Cited:
        """From a search hit (`Citation`) or a stored source under a reply (a dict)."""
        if isinstance(citation, Citation):
            c = citation
            return cls(c.source, c.page, c.page_end, c.text, c.start, c.end, c.heading)

        def number(key: str) -> int | None:
            value = citation.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            str(citation.get("source") or ""),
            number("page"),
            number("page_end"),
            str(citation.get("text") or ""),
            number("start") or 0,
            number("end") or 0,
            str(citation.get("heading") or ""),
        )

    @property
    def where(self) -> str:
        place = Path(self.source).name
        if self.page is not None:
            place += f" p. {self.page}"
            if self.page_end and self.page_end != self.page:
                place += f"–{self.page_end}"
        return f"{place} › {self.heading}" if self.heading else place


class DocumentViewer(QDialog):
    """A non-modal window that shows a cited document at its page with the passage marked:
    PDF pages rendered (previous / next, page box, zoom, PgUp / PgDn, Ctrl+= / Ctrl+-,
    Ctrl+0 fits the width), other formats as text with the passage selected. "Open in system
    viewer" hands the file to the desktop. A document that cannot be shown (encrypted,
    damaged) is said in one line in the viewer; a file that is gone raises
    `CitationNotOpenableError` from `open_citation`, for the caller to show.

    Signals: `document_shown(str)` with the path once a document is on screen;
    `page_shown(int, int)` with the page number and page count each time a PDF page is
    drawn; `problem(str)` with the line shown when a document or page cannot be shown.
    """

    document_shown = Signal(str)
    page_shown = Signal(int, int)
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setWindowTitle("Document — Carrel")
        self._cited: Cited | None = None
        self._mode: str | None = None
        self._doc: Any = None  # the open pypdfium2.PdfDocument
        self._index = 0
        self._count = 0
        self._zoom = 1.0  # 1.0 is the page's real size on this screen
        self._fit = True
        self._cache: OrderedDict[tuple[int, float], tuple[QPixmap, list[QRect]]] = OrderedDict()
        self._marks: dict[int, list[tuple[float, float, float, float]]] = {}
        self._scroll_to_mark = False
        self.passage = ""  # the text marked, "" when the passage was not found
        self._refit = QTimer(self)  # fitting the width as the window resizes, once it rests
        self._refit.setSingleShot(True)
        self._refit.setInterval(80)
        self._refit.timeout.connect(self._fit_width_now)
        self._build()
        self.resize(880, 980)

    def _build(self) -> None:
        self.where = QLabel(self)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prev_button = QPushButton("◀ Previous", self)
        self.next_button = QPushButton("Next ▶", self)
        self.page_box = QSpinBox(self)
        self.page_box.setPrefix("Page ")
        self.page_box.setKeyboardTracking(False)
        self.zoom_out_button = QToolButton(self)
        self.zoom_out_button.setText("−")
        self.zoom_out_button.setToolTip("Zoom out (Ctrl+-)")
        self.zoom_label = QLabel(self)
        self.zoom_in_button = QToolButton(self)
        self.zoom_in_button.setText("+")
        self.zoom_in_button.setToolTip("Zoom in (Ctrl+=)")
        self.fit_button = QToolButton(self)
        self.fit_button.setText("Fit width")
        self.fit_button.setToolTip("Fit the page to the window's width (Ctrl+0)")
        self.system_button = QPushButton("Open in system viewer", self)
        bar = QHBoxLayout()
        controls: list[QWidget | None] = [self.prev_button, self.page_box, self.next_button, None]
        controls += [self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button]
        for w in controls:
            if w is None:
                bar.addSpacing(12)
            else:
                bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.system_button)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_area = QScrollArea(self)
        self.page_area.setBackgroundRole(QPalette.ColorRole.Dark)
        self.page_area.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.page_area.setWidget(self.page_label)
        self.text_view = QPlainTextEdit(self)
        self.text_view.setReadOnly(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.page_area)
        self.stack.addWidget(self.text_view)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.stack, 1)

        self.prev_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.page_box.valueChanged.connect(self.show_page)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.fit_button.clicked.connect(self.fit_width)
        self.system_button.clicked.connect(self.open_in_system_viewer)
        self._page_keys = [
            QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, self.next_page),
            QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, self.previous_page),
        ]
        for keys, slot in (
            ("Ctrl+=", self.zoom_in),
            ("Ctrl++", self.zoom_in),
            ("Ctrl+-", self.zoom_out),
            ("Ctrl+0", self.fit_width),
        ):
            QShortcut(QKeySequence(keys), self, slot)
        self._set_mode(None)

    # what is shown -----------------------------------------------------------------------

    @property
    def page_number(self) -> int:
        """The PDF page on screen, 1-based; 0 when no PDF is shown."""
        return self._index + 1 if self._doc is not None else 0

    @property
    def page_count(self) -> int:
        return self._count if self._doc is not None else 0

    @property
    def source(self) -> str:
        return self._cited.source if self._cited else ""

    def open_citation(self, citation: Citation | Mapping[str, object]) -> QUrl:
        """Show the cited document at its page and bring the viewer up; returns the file's
        URL. Raises `CitationNotOpenableError` when it is not a file on this machine."""
        cited = Cited.of(citation)
        url = citation_url(cited.source, cited.page)  # the same checks as the desktop's
        self._release()
        self._cited = cited
        self.passage = ""
        name = Path(cited.source).name
        self.setWindowTitle(f"{name} — Carrel")
        self.where.setText(cited.where)
        self.where.setToolTip(cited.source)
        self._say("")
        if self.isVisible():  # open behind the main window, perhaps: bring it up
            self.raise_()
        self.show()
        self.activateWindow()
        if Path(cited.source).suffix.lower() in PAGED_SUFFIXES:
            self._open_pdf(Path(cited.source), cited)
        else:
            self._open_text(Path(cited.source), cited)
        return url

    def open_in_system_viewer(self) -> None:
        """Hand the file to the desktop, at the page on screen for a PDF."""
        if self._cited is None:
            return
        page = self.page_number or self._cited.page
        try:
            open_source(self._cited.source, page)
        except CarrelError as exc:
            self._say(exc.message, problem=True)

    def done(self, result: int) -> None:
        self._release()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._release()
        super().closeEvent(event)

    def _release(self) -> None:
        """Close the PDF and drop its pages and the text (on close and before another
        document)."""
        self._cache.clear()
        self._marks.clear()
        self.page_label.clear()
        self.text_view.setExtraSelections([])
        self.text_view.clear()
        if self._doc is not None:
            doc, self._doc = self._doc, None
            with PDFIUM_LOCK:
                doc.close()
        self._count = 0
        self._index = 0

    def _say(self, text: str, problem: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(PROBLEM_STYLE if problem else NOTE_STYLE)
        self.note.setVisible(bool(text))
        if problem:
            log.info("viewer: %s", text)
            self.problem.emit(text)

    def _set_mode(self, mode: str | None) -> None:
        """'pdf', 'text', or None (nothing to show): which controls apply."""
        self._mode = mode
        pdf = mode == "pdf"
        for w in (self.prev_button, self.next_button, self.page_box, self.fit_button):
            w.setVisible(pdf)
        self.zoom_label.setVisible(pdf)
        for w in (self.zoom_in_button, self.zoom_out_button):
            w.setVisible(mode is not None)
        for key in self._page_keys:
            key.setEnabled(pdf)  # in text, PgUp / PgDn scroll
        self.stack.setVisible(mode is not None)
        if mode is not None:
            self.stack.setCurrentWidget(self.page_area if pdf else self.text_view)
        self.system_button.setEnabled(self._cited is not None)

    # PDF -----------------------------------------------------------------------------------

    def _open_pdf(self, path: Path, cited: Cited) -> None:
        try:
            with PDFIUM_LOCK:
                doc = pypdfium2.PdfDocument(str(path))
                count = len(doc)
        except pypdfium2.PdfiumError as exc:
            self._set_mode(None)
            self._say(_pdf_problem(path, exc).message, problem=True)
            return
        except OSError as exc:
            self._set_mode(None)
            self._say(f"'{path.name}' cannot be read: {exc.strerror or exc}.", problem=True)
            return
        if count == 0:
            with PDFIUM_LOCK:
                doc.close()
            self._set_mode(None)
            self._say(f"'{path.name}' has no pages to show.", problem=True)
            return
        self._doc, self._count = doc, count
        index = min(max((cited.page or 1) - 1, 0), self._count - 1)
        self._find_marks(index, cited)
        self._scroll_to_mark = True
        self._set_mode("pdf")
        self.page_box.blockSignals(True)
        self.page_box.setRange(1, self._count)
        self.page_box.setSuffix(f" of {self._count}")
        self.page_box.blockSignals(False)
        self._fit = True
        self._index = index
        self._zoom = self._width_zoom()
        if self._show(index):
            self.document_shown.emit(str(path))

    def _find_marks(self, index: int, cited: Cited) -> None:
        """The boxes of the passage on page `index`, found by its words (and its offset)."""
        if not cited.text.strip():
            return
        with PDFIUM_LOCK:
            self._find_marks_locked(index, cited)

    def _find_marks_locked(self, index: int, cited: Cited) -> None:
        try:
            page = self._doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_range()
                    at = _raw_offset(raw, cited.start) if cited.end > cited.start else None
                    span = find_passage(raw, cited.text, at)
                    if span is None:
                        return
                    first = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, span[0])
                    last = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, span[1] - 1)
                    if first < 0 or last < first:
                        return
                    n = textpage.count_rects(first, last - first + 1)
                    self._marks[index] = [textpage.get_rect(i) for i in range(n)]
                    self.passage = " ".join(raw[span[0] : span[1]].split())
                finally:
                    textpage.close()
            finally:
                page.close()
        except pypdfium2.PdfiumError as exc:  # no mark is no error
            log.info("viewer: no mark on page %d of %s: %s", index + 1, cited.source, exc)

    def show_page(self, number: int) -> None:
        """Show PDF page `number` (1-based, clamped to the document)."""
        if self._doc is not None:
            self._show(min(max(number - 1, 0), self._count - 1))

    def next_page(self) -> None:
        self.show_page(self.page_number + 1)

    def previous_page(self) -> None:
        self.show_page(self.page_number - 1)

    def marks_on_page(self) -> list[QRect]:
        """The marked passage's boxes on the page shown, in the page image's pixels."""
        key = self._key(self._index)
        return list(self._cache[key][1]) if key in self._cache else []

    def _show(self, index: int) -> bool:
        try:
            pixmap, marks = self._pixmap(index)
        except (pypdfium2.PdfiumError, ValueError) as exc:
            log.info("viewer: page %d of %s: %s", index + 1, self.source, exc)
            self._say(f"Page {index + 1} cannot be shown: the file may be damaged.", True)
            return False
        previous, self._index = self._index, index
        self.page_label.setPixmap(pixmap)
        size = pixmap.deviceIndependentSize().toSize()
        self.page_label.resize(size.width() + 2 * PAGE_MARGIN, size.height() + 2 * PAGE_MARGIN)
        self.page_box.blockSignals(True)
        self.page_box.setValue(index + 1)
        self.page_box.blockSignals(False)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < self._count - 1)
        self.zoom_label.setText(f"{round(self._zoom * 100)} %")
        bar = self.page_area.verticalScrollBar()
        if self._scroll_to_mark:  # the cited page, opened: its passage a quarter down
            self._scroll_to_mark = False
            quarter = self.page_area.viewport().height() // 4
            bar.setValue(marks[0].top() + PAGE_MARGIN - quarter if marks else 0)
        elif index != previous:
            bar.setValue(0)
        self.page_shown.emit(index + 1, self._count)
        return True

    def _key(self, index: int) -> tuple[int, float]:
        return index, round(self._scale(), 3)

    def _scale(self) -> float:
        """Image pixels per PDF point: the zoom, this screen's DPI and pixel ratio."""
        return self._zoom * self.logicalDpiX() / 72 * self.devicePixelRatioF()

    def _pixmap(self, index: int) -> tuple[QPixmap, list[QRect]]:
        """The page as an image with the passage marked, from the cache when it is there."""
        key = self._key(index)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        with PDFIUM_LOCK:
            image, boxes = self._render(index, key[1])
        if boxes:
            painter = QPainter(image)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
            for box in boxes:
                painter.fillRect(box, MARK_COLOR)
            painter.end()
        pixmap = QPixmap.fromImage(image)
        ratio = self.devicePixelRatioF()
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

    # zoom ----------------------------------------------------------------------------------

    def zoom_in(self) -> None:
        self._set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_zoom(self._zoom / ZOOM_STEP)

    def fit_width(self) -> None:
        """Size the PDF page to the window's width, and keep it so as the window resizes."""
        if self._doc is None:
            return
        self._fit = True
        self._fit_width_now()

    def _set_zoom(self, zoom: float) -> None:
        if self._mode == "text":
            self.text_view.zoomIn(1 if zoom > self._zoom else -1)
            return
        if self._doc is None:
            return
        self._fit = False
        self._zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._show(self._index)

    def _fit_width_now(self) -> None:
        if self._doc is not None and self._fit:
            self._zoom = self._width_zoom()
            self._show(self._index)

    def _width_zoom(self) -> float:
        try:
            with PDFIUM_LOCK:
                width_pt = float(self._doc.get_page_size(self._index)[0]) or 612.0
        except pypdfium2.PdfiumError:
            width_pt = 612.0
        bar = self.page_area.verticalScrollBar()  # a page is taller than wide: room for it
        room = self.page_area.viewport().width() - 2 * PAGE_MARGIN
        room -= 0 if bar.isVisible() else bar.sizeHint().width()
        if room < 200:  # not laid out yet
            room = self.width() - 4 * PAGE_MARGIN
        zoom = room / (width_pt * self.logicalDpiX() / 72)
        return min(max(round(zoom, 3), MIN_ZOOM), MAX_ZOOM)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._doc is not None and self._fit:
            self._refit.start()

    # text ----------------------------------------------------------------------------------

    def _open_text(self, path: Path, cited: Cited) -> None:
        try:
            shown = _read_text(path)
        except CarrelError as exc:
            self._set_mode(None)
            self._say(exc.message, problem=True)
            return
        except OSError as exc:
            self._set_mode(None)
            self._say(f"'{path.name}' cannot be read: {exc.strerror or exc}.", problem=True)
            return
        self._set_mode("text")
        view = self.text_view
        view.setPlainText(shown.text)
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        for a, b in shown.headings[:MAX_BOLD_HEADINGS]:
            cursor = QTextCursor(view.document())
            cursor.setPosition(shown.qt(a))
            cursor.setPosition(shown.qt(b), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(bold)
        if not shown.complete:
            self._say(
                f"Showing the first {len(shown.text):,} characters of '{path.name}'; "
                "open it in the system viewer for the rest."
            )
        span = shown.find(cited)
        if span is not None:
            self.passage = " ".join(shown.text[span[0] : span[1]].split())
            self._select(shown, span)
        self.document_shown.emit(str(path))

    def _select(self, shown: _Shown, span: tuple[int, int]) -> None:
        """Select and mark the passage, and scroll it into the middle of the view."""
        view = self.text_view
        cursor = QTextCursor(view.document())
        cursor.setPosition(shown.qt(span[1]))
        cursor.setPosition(shown.qt(span[0]), QTextCursor.MoveMode.KeepAnchor)
        mark = QTextEdit.ExtraSelection()
        mark.cursor = cursor
        mark.format.setBackground(MARK_COLOR)
        view.setExtraSelections([mark])
        view.setTextCursor(cursor)
        view.centerCursor()


@dataclass
class _Shown:
    """A document's text as shown, and where each section of it came from."""

    text: str
    spans: list[tuple[int | None, int, int, int]]  # page, offset in source, shown at, length
    headings: list[tuple[int, int]]
    complete: bool

    def __post_init__(self) -> None:
        # Qt counts UTF-16 units: a character past U+FFFF is two of them.
        self._bmp = not self.text or max(self.text) <= "\uffff"

    def qt(self, index: int) -> int:
        """A Python index into the text as a Qt position."""
        return index if self._bmp else len(self.text[:index].encode("utf-16-le")) // 2

    def at(self, page: int | None, offset: int) -> int | None:
        """Where a (page, offset) of the source is in the shown text, if it is shown."""
        for p, start, pos, length in self.spans:
            if p == page and start <= offset <= start + length:
                return pos + offset - start
        return None

    def find(self, cited: Cited) -> tuple[int, int] | None:
        """The passage: by its offsets when they land on its words, else by its words."""
        at = self.at(cited.page, cited.start) if cited.end > cited.start else None
        page_start = next((pos for p, _, pos, _ in self.spans if p == cited.page), 0)
        return find_passage(self.text, cited.text, at, page_start)


def _read_text(path: Path) -> _Shown:
    """The loaders' sections as one text, a heading on a line of its own where it changes,
    sections a line apart where they were (CSV rows) and a blank line apart otherwise;
    reading stops at `MAX_SHOWN_CHARS`."""
    parts: list[str] = []
    spans: list[tuple[int | None, int, int, int]] = []
    headings: list[tuple[int, int]] = []
    pos = 0

    def add(piece: str, joint: str) -> int:
        nonlocal pos
        if parts:
            parts.append(joint)
            pos += len(joint)
        parts.append(piece)
        pos += len(piece)
        return pos - len(piece)

    heading: tuple[str, ...] = ()
    ended: tuple[int | None, int] | None = None  # page and offset where the last one ended
    complete = True
    sections: Iterator[Section] = load(path)
    try:
        for s in sections:
            if s.problem or not s.text:
                continue
            if pos + len(s.text) > MAX_SHOWN_CHARS:
                complete = False
                break
            joint = "\n" if ended == (s.page, s.start - 1) else "\n\n"
            if s.heading and s.heading != heading:
                title = s.heading[-1]
                at = add(title, "\n\n")
                headings.append((at, at + len(title)))
            heading = s.heading
            spans.append((s.page, s.start, add(s.text, joint), len(s.text)))
            ended = (s.page, s.start + len(s.text))
    finally:
        close = getattr(sections, "close", None)
        if close is not None:
            close()
    return _Shown("".join(parts), spans, headings, complete)


def _pdf_problem(path: Path, exc: Exception) -> CarrelError:
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


def viewer_for(widget: QWidget) -> DocumentViewer:
    """The one `DocumentViewer` of `widget`'s window, made on first use."""
    window = widget.window()
    found = window.findChild(DocumentViewer, VIEWER_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    if isinstance(found, DocumentViewer):
        return found
    viewer = DocumentViewer(window)
    viewer.setObjectName(VIEWER_NAME)
    return viewer
