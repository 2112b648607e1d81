"""The lists of the Documents page: the collections, search hits, the ingest progress bar,
and how a file's state is told (the files themselves: `app.ui.pages.files_table`). Views
only: they show what they are given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.citation import Citation
from app.rag.outcome import FileOutcome, IngestProgress
from app.rag.records import CollectionSummary, FileRecord

SOURCE_ROLE = Qt.ItemDataRole.UserRole
STATE_COLOURS = {"failed": "#b3261e", "needs_ocr": "#8a5a00", "cancelled": "#6b6b6b"}


def score_text(c: Citation) -> str:
    """'0.812', or '0.812 · 3.41' with the reranker's score after the search's."""
    text = f"{c.score:.3f}"
    return text if c.rerank is None else f"{text} · {c.rerank:.2f}"


# The states a running ingest moves a file through before its outcome.
LIVE_STATES = ("queued", "reading", "embedding")


def file_state(
    record: FileRecord | None, outcome: FileOutcome | None, live: str | None = None
) -> str:
    """The state key shown for a file: its live state while an ingest has it queued,
    reading or embedding; else the record's status, except "unchanged" for an indexed
    file the last ingest skipped, and the last ingest's outcome for a file it did not
    record (cancelled)."""
    if live in LIVE_STATES:
        return live
    if record is None:
        return outcome.status if outcome is not None else ""
    if record.status == "indexed" and outcome is not None and outcome.status == "unchanged":
        return "unchanged"
    return record.status


class CollectionList(QListWidget):
    """The collections, each with its file count; the name is kept in `SOURCE_ROLE`.
    Signals: those of `QListWidget` (`currentItemChanged` when another is picked)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("collections")

    def show_collections(self, collections: list[CollectionSummary], keep: str | None) -> None:
        """List the collections with their file counts, keeping `keep` current (else the
        first), without emitting `currentItemChanged` on the way."""
        self.blockSignals(True)
        try:
            self.clear()
            for c in collections:
                n = c.files
                item = QListWidgetItem(f"{c.name}  ({n} file{'s' if n != 1 else ''})")
                item.setData(SOURCE_ROLE, c.name)
                item.setToolTip(f"{c.name}: embedded with {c.embedder}")
                self.addItem(item)
            names = self.names()
            if keep in names:
                self.setCurrentRow(names.index(keep))
            elif names:
                self.setCurrentRow(0)
        finally:
            self.blockSignals(False)

    def show_counts(self, collections: list[CollectionSummary]) -> None:
        """Update the file counts shown, leaving the list and its current row alone."""
        counts = {c.name: c.files for c in collections}
        for row in range(self.count()):
            item = self.item(row)
            name = str(item.data(SOURCE_ROLE)) if item is not None else ""
            if item is not None and name in counts:
                n = counts[name]
                item.setText(f"{name}  ({n} file{'s' if n != 1 else ''})")

    def current_name(self) -> str | None:
        item = self.currentItem()
        return str(item.data(SOURCE_ROLE)) if item is not None else None

    def names(self) -> list[str]:
        items = (self.item(i) for i in range(self.count()))
        return [str(item.data(SOURCE_ROLE)) for item in items if item is not None]

    def select(self, name: str) -> None:
        names = self.names()
        if name in names:
            self.setCurrentRow(names.index(name))


def short_heading(heading: str) -> str:
    """A heading path as a narrow column shows it: its last, most specific, level, after
    "… › " when there are levels above it (a manual's outline can be five deep)."""
    levels = heading.split(" › ")
    return heading if len(levels) < 2 else f"… › {levels[-1]}"


class HitsList(QTreeWidget):
    """Search hits: file, page, heading path (its last level; the whole on hover) and a
    snippet of the passage.

    Signals: `opened(object)` with the `Citation` of a hit double-clicked or entered.
    """

    opened = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentHits")
        self.setHeaderLabels(["File", "Page", "Heading", "Passage", "Score"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(0, 200)
        self.setColumnWidth(1, 60)
        self.setColumnWidth(2, 200)
        self.setColumnWidth(4, 120)
        self._citations: list[Citation] = []
        self.itemActivated.connect(self._on_activated)

    def show_hits(self, citations: list[Citation]) -> None:
        self.clear()
        self._citations = list(citations)
        for n, c in enumerate(self._citations):
            page = ""
            if c.page is not None:
                page = str(c.page)
                if c.page_end and c.page_end != c.page:
                    page += f"–{c.page_end}"
            snippet = " ".join(c.text.split())
            item = QTreeWidgetItem(
                [Path(c.source).name, page, short_heading(c.heading), snippet[:240], score_text(c)]
            )
            item.setToolTip(2, c.heading)
            item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight)
            item.setToolTip(4, "search score (reranker score, when the collection has one)")
            item.setData(0, SOURCE_ROLE, n)
            item.setToolTip(0, c.source)
            item.setToolTip(3, snippet[:1200])
            self.addTopLevelItem(item)

    def citations(self) -> list[Citation]:
        return list(self._citations)

    def open_row(self, row: int) -> None:
        """Open hit `row` as a double-click would."""
        item = self.topLevelItem(row)
        if item is not None:
            self._on_activated(item, 0)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        n = int(item.data(0, SOURCE_ROLE))
        self.opened.emit(self._citations[n])


class IngestBar(QWidget):
    """The running ingest: a bar over its files, a line with files, passages, rate and
    ETA, and Cancel. Signals: `cancel_requested()`."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(True)
        self.label = QLabel(self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop after the current batch; nothing is left half in.")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.cancel_button)
        self.idle("")

    def begin(self, collection: str) -> None:
        self.bar.setRange(0, 0)  # busy until the files are counted
        self.label.setText(f"Reading files for '{collection}'…")
        self.cancel_button.setEnabled(True)
        self.bar.setVisible(True)
        self.cancel_button.setVisible(True)

    def show_progress(self, p: IngestProgress) -> None:
        if p.files_total:
            self.bar.setRange(0, p.files_total)
            self.bar.setValue(p.files_done)
            self.bar.setFormat(f"{p.files_done}/{p.files_total}")
        self.label.setText(p.describe())

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling after the current batch…")

    def idle(self, message: str) -> None:
        self.bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.label.setText(message)


def stack(parent: QWidget, *rows: QWidget | list[QWidget | None], grow: int = -1) -> QWidget:
    """A margin-less widget holding `rows` top to bottom; a list is a row of widgets side
    by side (None there is a stretch); row number `grow` takes the spare height."""
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for n, row in enumerate(rows):
        if isinstance(row, QWidget):
            layout.addWidget(row, 1 if n == grow else 0)
            continue
        line = QHBoxLayout()
        for widget in row:
            if widget is None:
                line.addStretch(1)
            else:
                line.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
        layout.addLayout(line)
    return box


def local_paths(urls: list[QUrl]) -> list[Path]:
    """The local files and folders among dropped URLs; none if any is not local."""
    if not urls or not all(u.isLocalFile() for u in urls):
        return []
    return [Path(u.toLocalFile()) for u in urls]
