"""`Documents`: the document side of the Workbench — collections, ingest, search, answers.

The Workbench holds one; the CLI and the Documents page use it through the Workbench. It
keeps each opened collection's index open (Qdrant Edge allows one process per shard) until
`close()`.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from app.config import Paths
from app.engine.backend import ChatMessage, Generation
from app.rag.answer import ANSWER_SOURCES, Answer, answer
from app.rag.embedder import Embedder, SentenceEmbedder
from app.rag.errors import BadCollectionNameError, CollectionNotFoundError, EmbedderMismatchError
from app.rag.index import EdgeIndex, Index, Mode
from app.rag.ingest import (
    EMBED_BATCH,
    MAX_CHUNKS_PER_FILE,
    Ingestor,
    IngestReport,
    ProgressCallback,
)
from app.rag.passages import DEFAULT_REPRESENTATION
from app.rag.records import CollectionRecord, FileRecord, Records
from app.rag.retrieve import Citation, Retriever
from app.rag.sentences import remove_store
from app.store import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Documents:
    """Collections of documents on this machine: add, list, remove, search, ask."""

    def __init__(
        self,
        paths: Paths,
        store: Store,
        embedder: Embedder | None = None,
        *,
        max_chunks: int = MAX_CHUNKS_PER_FILE,
        server_key: Callable[[str], str | None] | None = None,
    ) -> None:
        self.paths = paths
        # The API key of a collection's Qdrant server, from the keyring (never a file).
        self.server_key = server_key
        self.records = Records(store)
        self.embedder: Embedder = embedder or SentenceEmbedder(cache_dir=paths.cache_dir)
        self.max_chunks = max_chunks
        # Chunks embedded and upserted per step; cancel is checked between steps.
        self.batch = EMBED_BATCH
        # How new collections embed their passages (`app.rag.passages`); each collection
        # keeps the one it was made with.
        self.representation = DEFAULT_REPRESENTATION
        self._indexes: dict[str, Index] = {}
        self._lock = threading.RLock()

    @property
    def index_root(self) -> Path:
        return self.paths.data_dir / "index"

    def close(self) -> None:
        with self._lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()

    # collections ------------------------------------------------------------------------

    def collections(self) -> list[CollectionRecord]:
        return self.records.collections()

    def _check(self, name: str, *, create: bool) -> CollectionRecord:
        if not _NAME.match(name):
            raise BadCollectionNameError(name)
        record = self.records.collection(name)
        if record is None:
            if not create:
                raise CollectionNotFoundError(name, [c.name for c in self.collections()])
            self.records.create_collection(
                name, self.embedder.name, self.embedder.dim, self.representation
            )
            record = self.records.collection(name)
            assert record is not None
        if record.embedder != self.embedder.name or record.dim != self.embedder.dim:
            raise EmbedderMismatchError(name, record.embedder, self.embedder.name)
        return record

    def index(self, name: str, *, create: bool = False) -> Index:
        """The collection's open index, after finishing any work a crash interrupted."""
        with self._lock:
            record = self._check(name, create=create)
            if name not in self._indexes:
                index = self._open_index(record)
                self._indexes[name] = index
                self._ingestor(name, index).reconcile()
            return self._indexes[name]

    def _open_index(self, record: CollectionRecord) -> Index:
        """The embedded shard, or the team's Qdrant server when the collection names one."""
        if not record.server_url:
            return EdgeIndex(self.index_root / record.name, record.dim, record.name)
        from app.rag.server_index import ServerIndex

        key = self.server_key(record.name) if self.server_key else None
        return ServerIndex.connect(
            record.server_url, record.dim, record.name, api_key=key, prefix=record.server_prefix
        )

    def use_server(self, name: str, url: str, prefix: str = "carrel_") -> None:
        """Point a collection at a Qdrant server or cluster (empty `url`: back to this
        disk). Its files are indexed again there on the next add."""
        with self._lock:
            self._check(name, create=True)
            index = self._indexes.pop(name, None)
            if index is not None:
                index.close()
            self.records.set_server(name, url.rstrip("/"), prefix)

    def _ingestor(self, name: str, index: Index) -> Ingestor:
        record = self.records.collection(name)
        return Ingestor(
            name,
            index,
            self.records,
            self.embedder,
            max_chunks=self.max_chunks,
            batch=self.batch,
            representation=record.representation if record else self.representation,
        )

    def drop(self, name: str) -> None:
        """Delete a collection: its record, its shard folder and its sentence vectors
        (quick at any size)."""
        with self._lock:
            if not _NAME.match(name):
                raise BadCollectionNameError(name)
            record = self.records.collection(name)
            index = self._indexes.pop(name, None)
            if record is not None and record.server_url:
                # A server collection is dropped on the server too.
                (index or self._open_index(record)).drop()  # type: ignore[attr-defined]
            if index is not None:
                index.close()
            self.records.drop_collection(name)
            shutil.rmtree(self.index_root / name, ignore_errors=True)
            remove_store(self.index_root / name)

    # files ------------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[Path],
        collection: str,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IngestReport:
        index = self.index(collection, create=True)
        return self._ingestor(collection, index).add(list(paths), progress, cancel)

    def files(self, collection: str | None = None) -> list[FileRecord]:
        if collection is not None:
            self._check(collection, create=False)
        return self.records.files(collection)

    def remove(self, path: Path | str, collection: str) -> bool:
        """Take one file (or every file under a folder) out of a collection."""
        index = self.index(collection)
        target = Path(path).expanduser().resolve()
        ingestor = self._ingestor(collection, index)
        sources = [
            f.source
            for f in self.records.files(collection)
            if f.source == str(target) or Path(f.source).is_relative_to(target)
        ]
        for source in sources:
            ingestor.remove(source)
        return bool(sources)

    # retrieval --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        collection: str,
        k: int = 10,
        files: list[str] | None = None,
        mode: Mode = "hybrid",
    ) -> list[Citation]:
        sources = [str(Path(f).expanduser().resolve()) for f in files] if files else None
        retriever = Retriever(self.index(collection), self.embedder)
        return retriever.search(query, k, sources=sources, mode=mode)

    def ask(
        self,
        question: str,
        collection: str,
        complete: Callable[[list[ChatMessage]], Generation],
        k: int = ANSWER_SOURCES,
    ) -> Answer:
        """Search, then have the model answer from the numbered passages."""
        return answer(question, self.search(question, collection, k), complete)
