"""`DocumentViewer`: a cited document shown inside Carrel, at the cited page, with the cited
passage marked; the desktop's own viewer is one button away.

A PDF's pages are rendered and marked by `app.ui.viewer_pdf`; every other format is shown
as text as `app.ui.viewer_text` reads it, with the passage selected; the controls are
`app.ui.viewer_bar`. `viewer_for(widget)`
gives the one viewer of a window, made on first use.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QRect, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QPalette, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.citation import Citation
from app.errors import CarrelError
from app.ui.citations import PAGED_SUFFIXES, citation_url, open_source
from app.ui.viewer_bar import ViewerBar
from app.ui.viewer_pdf import PAGE_ERRORS, PdfPages
from app.ui.viewer_size import place_on_screen
from app.ui.viewer_text import read_text, select_passage, show_text, unreadable

log = logging.getLogger(__name__)

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.25, 6.0
PAGE_MARGIN = 12  # pixels around a page in the scroll area
PROBLEM_STYLE = "color: #8a1c12;"
NOTE_STYLE = "color: #5f6b7a;"
VIEWER_NAME = "carrelDocumentViewer"


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
        self._cited: Citation | None = None
        self._mode: str | None = None
        self._pdf: PdfPages | None = None
        self._index = 0
        self._count = 0
        self._zoom = 1.0  # 1.0 is the page's real size on this screen
        self._fit = True
        self._scroll_to_mark = False
        self.passage = ""  # the text marked, "" when the passage was not found
        self._refit = QTimer(self)  # fitting the width as the window resizes, once it rests
        self._refit.setSingleShot(True)
        self._refit.setInterval(80)
        self._refit.timeout.connect(self._fit_width_now)
        self._build()
        place_on_screen(self, parent)  # never taller than the screen it opens on

    def _build(self) -> None:
        self.where = QLabel(self)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = ViewerBar(self)
        bar = self.bar
        self.prev_button, self.next_button = bar.prev_button, bar.next_button
        self.page_box, self.system_button = bar.page_box, bar.system_button
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
        layout.addWidget(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.stack, 1)

        self.prev_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.page_box.valueChanged.connect(self.show_page)
        bar.zoom_in_button.clicked.connect(self.zoom_in)
        bar.zoom_out_button.clicked.connect(self.zoom_out)
        bar.fit_button.clicked.connect(self.fit_width)
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
        return self._index + 1 if self._pdf is not None else 0

    @property
    def page_count(self) -> int:
        return self._count if self._pdf is not None else 0

    @property
    def source(self) -> str:
        return self._cited.source if self._cited else ""

    def open_citation(self, cited: Citation) -> QUrl:
        """Show the cited document at its page, its passage found by its offsets (else by
        its words), and bring the viewer up; returns the file's URL. Raises
        `CitationNotOpenableError` when it is not a file on this machine."""
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
        self.page_label.clear()
        self.text_view.setExtraSelections([])
        self.text_view.clear()
        if self._pdf is not None:
            pdf, self._pdf = self._pdf, None
            pdf.close()
        self._count = 0
        self._index = 0

    def _say(self, text: str, problem: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(PROBLEM_STYLE if problem else NOTE_STYLE)
        self.note.setVisible(bool(text))
        if problem:
            log.info("viewer: %s", text)
            self.problem.emit(text)

    def _refuse(self, text: str) -> None:
        """Show nothing of the document, only why (one line)."""
        self._set_mode(None)
        self._say(text, problem=True)

    def _set_mode(self, mode: str | None) -> None:
        """'pdf', 'text', or None (nothing to show): which controls apply."""
        self._mode = mode
        pdf = mode == "pdf"
        self.bar.set_mode(mode, self._cited is not None)
        for key in self._page_keys:
            key.setEnabled(pdf)  # in text, PgUp / PgDn scroll
        self.stack.setVisible(mode is not None)
        if mode is not None:
            self.stack.setCurrentWidget(self.page_area if pdf else self.text_view)

    # PDF -----------------------------------------------------------------------------------

    def _open_pdf(self, path: Path, cited: Citation) -> None:
        try:
            pdf = PdfPages.open(path)
        except (CarrelError, OSError) as exc:
            self._refuse(unreadable(path, exc))
            return
        if pdf.count == 0:
            pdf.close()
            self._refuse(f"'{path.name}' has no pages to show.")
            return
        self._pdf, self._count = pdf, pdf.count
        index = min(max((cited.page or 1) - 1, 0), self._count - 1)
        self.passage = pdf.find_marks(index, cited)
        self._scroll_to_mark = True
        self._set_mode("pdf")
        self.bar.set_count(self._count)
        self._fit = True
        self._index = index
        self._zoom = self._width_zoom()
        if self._show(index):
            self.document_shown.emit(str(path))

    def show_page(self, number: int) -> None:
        """Show PDF page `number` (1-based, clamped to the document)."""
        if self._pdf is not None:
            self._show(min(max(number - 1, 0), self._count - 1))

    def next_page(self) -> None:
        self.show_page(self.page_number + 1)

    def previous_page(self) -> None:
        self.show_page(self.page_number - 1)

    def marks_on_page(self) -> list[QRect]:
        """The marked passage's boxes on the page shown, in the page image's pixels."""
        return self._pdf.marks(self._index, self._scale()) if self._pdf is not None else []

    def _show(self, index: int) -> bool:
        assert self._pdf is not None
        try:
            pixmap, marks = self._pdf.pixmap(index, self._scale(), self.devicePixelRatioF())
        except PAGE_ERRORS as exc:
            log.info("viewer: page %d of %s: %s", index + 1, self.source, exc)
            self._say(f"Page {index + 1} cannot be shown: the file may be damaged.", True)
            return False
        previous, self._index = self._index, index
        self.page_label.setPixmap(pixmap)
        size = pixmap.deviceIndependentSize().toSize()
        self.page_label.resize(size.width() + 2 * PAGE_MARGIN, size.height() + 2 * PAGE_MARGIN)
        self.bar.show_position(index, self._count, self._zoom)
        bar = self.page_area.verticalScrollBar()
        if self._scroll_to_mark:  # the cited page, opened: its passage a quarter down
            self._scroll_to_mark = False
            quarter = self.page_area.viewport().height() // 4
            bar.setValue(marks[0].top() + PAGE_MARGIN - quarter if marks else 0)
        elif index != previous:
            bar.setValue(0)
        self.page_shown.emit(index + 1, self._count)
        return True

    def _scale(self) -> float:
        """Image pixels per PDF point: the zoom, this screen's DPI and pixel ratio (to three
        places: pages are cached by it)."""
        return round(self._zoom * self.logicalDpiX() / 72 * self.devicePixelRatioF(), 3)

    # zoom ----------------------------------------------------------------------------------

    def zoom_in(self) -> None:
        self._set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_zoom(self._zoom / ZOOM_STEP)

    def fit_width(self) -> None:
        """Size the PDF page to the window's width, and keep it so as the window resizes."""
        if self._pdf is None:
            return
        self._fit = True
        self._fit_width_now()

    def _set_zoom(self, zoom: float) -> None:
        if self._mode == "text":
            self.text_view.zoomIn(1 if zoom > self._zoom else -1)
            return
        if self._pdf is None:
            return
        self._fit = False
        self._zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._show(self._index)

    def _fit_width_now(self) -> None:
        if self._pdf is not None and self._fit:
            self._zoom = self._width_zoom()
            self._show(self._index)

    def _width_zoom(self) -> float:
        assert self._pdf is not None
        width_pt = self._pdf.page_width(self._index)
        bar = self.page_area.verticalScrollBar()  # a page is taller than wide: room for it
        room = self.page_area.viewport().width() - 2 * PAGE_MARGIN
        room -= 0 if bar.isVisible() else bar.sizeHint().width()
        if room < 200:  # not laid out yet
            room = self.width() - 4 * PAGE_MARGIN
        zoom = room / (width_pt * self.logicalDpiX() / 72)
        return min(max(round(zoom, 3), MIN_ZOOM), MAX_ZOOM)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._pdf is not None and self._fit:
            self._refit.start()

    # text ----------------------------------------------------------------------------------

    def _open_text(self, path: Path, cited: Citation) -> None:
        try:
            shown = read_text(path)
        except (CarrelError, OSError) as exc:
            self._refuse(unreadable(path, exc))
            return
        self._set_mode("text")
        show_text(self.text_view, shown)
        if not shown.complete:
            self._say(
                f"Showing the first {len(shown.text):,} characters of '{path.name}'; "
                "open it in the system viewer for the rest."
            )
        span = shown.find(cited)
        if span is not None:
            self.passage = " ".join(shown.text[span[0] : span[1]].split())
            select_passage(self.text_view, shown, span)
        self.document_shown.emit(str(path))


def viewer_for(widget: QWidget) -> DocumentViewer:
    """The one `DocumentViewer` of `widget`'s window, made on first use."""
    window = widget.window()
    found = window.findChild(DocumentViewer, VIEWER_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    if isinstance(found, DocumentViewer):
        return found
    viewer = DocumentViewer(window)
    viewer.setObjectName(VIEWER_NAME)
    return viewer
