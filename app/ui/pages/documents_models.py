"""The embedder and reranker of the Documents page's current collection: two pickers and
a line saying what is going on. Changes run in workers the page starts (`start`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from app.errors import CarrelError
from app.rag.models import RetrievalModel
from app.rag.service import Documents
from app.ui.workers import TaskWorker

Start = Callable[[TaskWorker, Callable[[Any], None]], TaskWorker]

NO_RERANKER = "(none)"


class RetrievalChoice(QWidget):
    """Pickers for a collection's embedder and reranker, filled from the model library.

    Signals: `embedder_chosen(str)` when the person picks another embedder,
    `reranker_chosen(str)` with a reranker's name or "" for none (both as picked);
    `changed(str)` with the collection's name once a change is in place (a reranker
    loaded and run once, so the first search does not wait for it; a re-embed finished:
    searches used the old embedder until then). A reranker that cannot run leaves the
    collection's choice as it was, the reason on the status line.
    """

    embedder_chosen = Signal(str)
    reranker_chosen = Signal(str)
    changed = Signal(str)

    def __init__(self, documents: Documents, start: Start, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.documents = documents
        self._start = start
        self.collection: str | None = None
        self.embedder = QComboBox(self)
        self.embedder.setObjectName("collectionEmbedder")
        self.reranker = QComboBox(self)
        self.reranker.setObjectName("collectionReranker")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Embedder", self.embedder)
        form.addRow("Reranker", self.reranker)
        form.addRow(self.status)
        self.embedder.activated.connect(lambda _: self._picked_embedder())
        self.reranker.activated.connect(lambda _: self._picked_reranker())
        self.embedder_chosen.connect(self.change_embedder)
        self.reranker_chosen.connect(self.change_reranker)
        self._shown = ("", "")

    def show_collection(self, name: str | None) -> None:
        """Show `name`'s embedder and reranker (nothing for no collection)."""
        self.collection = name
        record = self.documents.collection(name) if name else None
        self.setEnabled(record is not None)
        if record is None:
            self.embedder.clear()
            self.reranker.clear()
            return
        self.show_choice(self.documents.models.available(), record.embedder, record.reranker)

    def change_reranker(self, name: str) -> TaskWorker | None:
        collection, docs = self.collection, self.documents
        if collection is None:
            return None

        def run() -> str:
            docs.set_reranker(collection, name)
            return collection

        def done(_: object) -> None:
            self.status.setText(f"Searches re-ranked by {name}." if name else "No reranker.")
            self.changed.emit(collection)

        def failed(message: str) -> None:
            self.refresh()  # the pickers show the collection's choice again
            self.status.setText(message)

        if name:
            self.status.setText(f"Preparing {name} (the first time takes some seconds)…")
        worker = self._start(TaskWorker(run), done)
        worker.failed.connect(failed)
        return worker

    def change_embedder(self, name: str) -> TaskWorker | None:
        """Re-embed the collection with `name` in a worker; searches go on meanwhile."""
        collection, docs = self.collection, self.documents
        if collection is None:
            return None

        def run() -> str:
            docs.change_embedder(collection, name)
            return collection

        def done(_: object) -> None:
            self.status.setText(f"'{collection}' is embedded with {name}.")
            self.changed.emit(collection)

        self.status.setText(
            f"Re-embedding '{collection}' with {name}; searches use the old embedder until"
            " it is done."
        )
        worker = self._start(TaskWorker(run), done)
        worker.failed.connect(lambda message: self.status.setText(message))
        return worker

    def refresh(self) -> None:
        try:
            self.show_collection(self.collection)
        except CarrelError as exc:
            self.status.setText(exc.message)

    def show_choice(self, models: list[RetrievalModel], embedder: str, reranker: str) -> None:
        """List the installed models and select the collection's own."""
        self._shown = (embedder, reranker)
        for box, role, current, extra in (
            (self.embedder, "embedder", embedder, []),
            (self.reranker, "reranker", reranker or NO_RERANKER, [NO_RERANKER]),
        ):
            box.blockSignals(True)
            box.clear()
            names = extra + [m.name for m in models if m.role == role]
            if current not in names:  # a model no longer installed is still shown
                names.append(current)
            for name in names:
                box.addItem(name)
            box.setCurrentText(current)
            box.blockSignals(False)

    def _picked_embedder(self) -> None:
        name = self.embedder.currentText()
        if name and name != self._shown[0]:
            self.embedder_chosen.emit(name)

    def _picked_reranker(self) -> None:
        name = self.reranker.currentText()
        chosen = "" if name == NO_RERANKER else name
        if chosen != self._shown[1]:
            self._shown = (self._shown[0], chosen)
            self.reranker_chosen.emit(chosen)
