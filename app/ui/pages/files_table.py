"""`FilesTable`: a collection's files on the Documents page, over `FilesModel`.

A folder an analyst adds may hold thousands of files, and a running ingest moves each one
through several states. The list is a model of plain rows found by path in one step, so
showing 10,000 files or moving one of them costs the GUI thread next to nothing, where a
widget item per file, rebuilt as each file settled, cost it time in proportion to the
square of the files (`tests/bench/bench_files_page.py`).

Each time Qt calls into the model's Python, the GUI thread must take the GIL from the
ingest's threads, and while they run Python that is a wait of up to the interpreter's
switch interval (5 ms). So the view asks as little as it can: a table view, which lays out
no rows (a tree view asked the model about each of 10,000 rows every time rows came or
went), an `index` of its own (Qt's asks `rowCount` and `columnCount` for every cell), and
`multiData`, which answers every role of a cell in one call, not seven.
"""

from __future__ import annotations

import os.path
from collections.abc import Iterable
from typing import NamedTuple, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.rag.outcome import FileOutcome, state_label
from app.rag.records import FileRecord
from app.ui.pages.documents_views import LIVE_STATES, SOURCE_ROLE, STATE_COLOURS, file_state

HEADERS = ("File", "State", "Pages", "Passages", "Reason")
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
AnyIndex = QModelIndex | QPersistentModelIndex


def file_name(source: str) -> str:
    """The last part of a path, as a string: a `Path` made for each of 10,000 files took
    most of the time of listing them."""
    return os.path.basename(source)  # noqa: PTH119


class FileRow(NamedTuple):
    """One file as listed: its full path, state key, and the texts of its other columns
    (a tuple: 10,000 of them are made at once when a folder's files are queued)."""

    source: str
    state: str
    pages: str = ""
    chunks: str = ""
    reason: str = ""

    @classmethod
    def of(
        cls, source: str, state: str, record: FileRecord | None, outcome: FileOutcome | None
    ) -> FileRow:
        reason = (record.reason if record else "") or (outcome.reason if outcome else "")
        pages = str(record.pages) if record else ""
        chunks = str(record.chunks) if record else ""
        return cls(source, state, pages, chunks, reason)


class FilesModel(QAbstractTableModel):
    """The rows of `FilesTable`, in the order given (by path when shown whole, new files
    at the end), each found by its path in one step. Signals: those of
    `QAbstractTableModel` (`modelReset`, `rowsInserted`, `dataChanged`)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[FileRow] = []
        self._names: list[str] = []
        self._at: dict[str, int] = {}

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        """The cell at `row`, `column`, in one call into Python: Qt's own asks the model's
        `rowCount` and `columnCount` for every cell a view makes (see the module)."""
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        return self._value(index.row(), index.column(), role)

    def multiData(self, index: AnyIndex, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role the view asks of a cell, in one call into Python (see the module)."""
        # PySide6 iterates a span, though its stubs do not say so.
        wanted = (
            [roleDataSpan]
            if isinstance(roleDataSpan, QModelRoleData)
            else cast(Iterable[QModelRoleData], roleDataSpan)
        )
        valid = index.isValid()
        at, column = index.row(), index.column()
        for slot in wanted:
            value = self._value(at, column, slot.role()) if valid else None
            if value is None:
                slot.clearData()
            else:
                slot.setData(value)

    def _value(self, at: int, column: int, role: int) -> object:
        row = self._rows[at]
        if role == Qt.ItemDataRole.DisplayRole:
            texts = (self._names[at], state_label(row.state), row.pages, row.chunks)
            return texts[column] if column < len(texts) else row.reason
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.source if column == 0 else (row.reason or None) if column == 4 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            colour = STATE_COLOURS.get(row.state)
            return QBrush(QColor(colour)) if colour else None
        if role == SOURCE_ROLE:
            return row.source
        return None

    def reset(self, rows: list[FileRow]) -> None:
        """Show `rows`, and only them."""
        self.beginResetModel()
        self._rows = list(rows)
        self._names = [file_name(r.source) for r in self._rows]
        self._at = {r.source: n for n, r in enumerate(self._rows)}
        self.endResetModel()

    def put(self, rows: Iterable[FileRow]) -> None:
        """Replace the rows of files already shown; add the others at the end."""
        new: list[FileRow] = []
        changed: list[int] = []
        for row in rows:
            at = self._at.get(row.source)
            if at is None:
                new.append(row)
            elif self._rows[at] != row:
                self._rows[at] = row
                changed.append(at)
        if changed:
            self.dataChanged.emit(
                self.index(min(changed), 0), self.index(max(changed), len(HEADERS) - 1)
            )
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for n, row in enumerate(new, first):
                self._rows.append(row)
                self._names.append(file_name(row.source))
                self._at[row.source] = n
            self.endInsertRows()

    def row(self, source: str) -> FileRow | None:
        at = self._at.get(source)
        return None if at is None else self._rows[at]

    def row_of(self, source: str) -> int | None:
        return self._at.get(source)

    def source(self, row: int) -> str:
        return self._rows[row].source

    def rows(self) -> list[FileRow]:
        return list(self._rows)


class FilesTable(QTableView):
    """A collection's files: name, state, pages, passages and the reason of a failure
    (`FilesModel` underneath; the full path is the row's tooltip and `SOURCE_ROLE`),
    shown as a list: rows selected whole, no grid, no row numbers, one line a row.

    Signals: `selection_changed()` when the files selected change."""

    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentFiles")
        self.files = FilesModel(self)
        self.setModel(self.files)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)  # Tab leaves the list, as from any other list
        self.setCornerButtonEnabled(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setMinimumSectionSize(1)
        rows.setDefaultSectionSize(self._line_height())
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(0, 240)
        self.setColumnWidth(1, 130)
        self.setColumnWidth(2, 60)
        self.setColumnWidth(3, 80)
        self.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        self.files.modelReset.connect(self.selection_changed.emit)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.verticalHeader().setDefaultSectionSize(self._line_height())

    def _line_height(self) -> int:
        """The height the style gives a one-line item, as in the page's other lists."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.text = "Xg"
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        size = self.style().sizeFromContents(
            QStyle.ContentsType.CT_ItemViewItem, option, QSize(), self
        )
        return size.height()

    def show_files(
        self,
        records: list[FileRecord],
        outcomes: dict[str, FileOutcome],
        live: dict[str, str] | None = None,
    ) -> None:
        """Show `records` with the last ingest's `outcomes` and a running ingest's `live`
        states ({source: state}; a file it has not recorded yet gets a row too), keeping
        the files selected that are still there."""
        live = live or {}
        known = {r.source: r for r in records}
        cancelled = {s for s, o in outcomes.items() if o.status == "cancelled"}
        pending = {s for s, state in live.items() if state in LIVE_STATES}
        selected = self.selected_sources()
        rows = []
        for source in sorted(set(known) | cancelled | pending):
            record, outcome = known.get(source), outcomes.get(source)
            state = file_state(record, outcome, live.get(source))
            rows.append(FileRow.of(source, state, record, outcome))
        self.files.reset(rows)
        self._select(selected)

    def set_state(self, sources: tuple[str, ...], state: str) -> None:
        """Move the rows of `sources` to live `state`, adding rows for new files."""
        self.files.put(FileRow(source, state) for source in sources)

    def settle(
        self,
        sources: Iterable[str],
        records: list[FileRecord],
        outcomes: dict[str, FileOutcome],
        live: dict[str, str],
    ) -> None:
        """Show what the files in `sources` became: their `records` (a file without one
        keeps a row with its `live` state, such as "cancelled")."""
        known = {r.source: r for r in records}
        rows = []
        for source in sources:
            record, outcome, now = known.get(source), outcomes.get(source), live.get(source)
            state = file_state(record, outcome, now) or (now or "")
            shown = self.files.row(source)
            if record is None and shown is not None:
                rows.append(shown._replace(state=state))
            elif record is not None or state:
                rows.append(FileRow.of(source, state, record, outcome))
        self.files.put(rows)

    def clear(self) -> None:
        self.files.reset([])

    def rows(self) -> dict[str, tuple[str, str]]:
        """{full path: (state label, reason)} of every row shown."""
        return {r.source: (state_label(r.state), r.reason) for r in self.files.rows()}

    def selected_sources(self) -> list[str]:
        rows = sorted(i.row() for i in self.selectionModel().selectedRows())
        return [self.files.source(r) for r in rows]

    def select_source(self, source: str) -> None:
        """Select the row of `source` alone."""
        self._select([source])

    def _select(self, sources: list[str]) -> None:
        selection = QItemSelection()
        last = self.files.columnCount() - 1
        for source in sources:
            row = self.files.row_of(source)
            if row is not None:
                selection.select(self.files.index(row, 0), self.files.index(row, last))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.selectionModel().select(selection, flags)
