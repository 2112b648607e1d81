"""`Documents`: the document side of the Workbench — collections, ingest, search.

The Workbench holds one; the CLI and the Documents page use it through the Workbench. It
keeps each opened collection's index open (Qdrant Edge allows one process per shard) until
`close()`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from app.citation import Citation
from app.config import Paths
from app.errors import CarrelError
from app.netguard import NetGuard
from app.rag import reembed
from app.rag.embedder import Embedder, SentenceEmbedder
from app.rag.errors import (
    CollectionNotFoundError,
    EmbedderMismatchError,
    EmbedderUnavailableError,
    ReembeddingError,
)
from app.rag.index import EdgeIndex, Index, Mode
from app.rag.ingest import (
    EMBED_BATCH,
    MAX_CHUNKS_PER_FILE,
    Ingestor,
    IngestProgress,
    IngestReport,
    ProgressCallback,
)
from app.rag.lease import ShardLease, Waiting
from app.rag.models import RetrievalModels
from app.rag.naming import check_name, collection_key
from app.rag.passages import DEFAULT_REPRESENTATION
from app.rag.pipeline import within
from app.rag.records import CollectionRecord, CollectionSummary, DocumentRecords, FileRecord
from app.rag.rerank import DEPTH, rerank
from app.rag.retrieve import Retriever
from app.rag.sentences import remove_store
from app.rag.shared_index import SharedIndex
from app.store import Store


class Documents:
    """Collections of documents on this machine: add, list, remove, search."""

    def __init__(
        self,
        paths: Paths,
        store: Store,
        embedder: Embedder | None = None,
        *,
        max_chunks: int = MAX_CHUNKS_PER_FILE,
        server_key: Callable[[str], str | None] | None = None,
        guard: NetGuard | None = None,
    ) -> None:
        self.paths = paths
        # Opens the way to a collection's Qdrant server while a call to it runs.
        self.guard = guard
        # The API key of a collection's Qdrant server, from the keyring (never a file).
        self.server_key = server_key
        self.records = DocumentRecords(store)
        self.embedder: Embedder = embedder or SentenceEmbedder()
        self.max_chunks = max_chunks
        # Chunks embedded and upserted per step; cancel is checked between steps.
        self.batch = EMBED_BATCH
        # How new collections embed their passages (`app.rag.passages`); each collection
        # keeps the one it was made with.
        self.representation = DEFAULT_REPRESENTATION
        # The embedders and rerankers collections may name (the default one included).
        self.models = RetrievalModels(paths.models_dir, self.embedder)
        self._reembedding: set[str] = set()
        self._indexes: dict[str, Index] = {}
        self._lock = threading.RLock()

    @property
    def index_root(self) -> Path:
        return self.paths.data_dir / "index"

    def folder(self, name: str) -> Path:
        """Where collection `name`'s shard lives (under its key, `app.rag.naming`)."""
        return self.index_root / collection_key(name)

    def close(self) -> None:
        with self._lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()
            self.models.close()

    # collections ------------------------------------------------------------------------

    def collections(self) -> list[CollectionRecord]:
        return self.records.collections()

    def collection(self, name: str) -> CollectionRecord | None:
        """Collection `name` as recorded (its embedder, reranker, server), or None."""
        return self.records.collection(name)

    def summaries(self) -> list[CollectionSummary]:
        """Every collection with its file and passage counts (one query)."""
        return self.records.summaries()

    def _check(self, name: str, *, create: bool, embedder: str | None = None) -> CollectionRecord:
        check_name(name)
        record = self.records.collection(name)
        if record is None:
            if not create:
                raise CollectionNotFoundError(name, [c.name for c in self.collections()])
            chosen = self.models.embedder(embedder) if embedder else self.embedder
            self.records.create_collection(
                name,
                chosen.name,
                chosen.dim,
                self.representation,
                str(getattr(chosen, "revision", "")),
            )
            record = self.records.collection(name)
            assert record is not None
        return record

    def embedder_of(self, name: str) -> Embedder:
        """The embedder collection `name` was indexed with (its queries need the same)."""
        record = self._check(name, create=False)
        if record.embedder == self.embedder.name and record.dim == self.embedder.dim:
            return self.embedder
        try:
            embedder = self.models.embedder(record.embedder)
        except EmbedderUnavailableError as exc:
            raise EmbedderMismatchError(name, record.embedder, exc.message) from exc
        if embedder.dim != record.dim:
            reason = f"it makes {embedder.dim}-dimensional vectors, the index {record.dim}"
            raise EmbedderMismatchError(name, record.embedder, reason)
        return embedder

    def index(
        self,
        name: str,
        *,
        create: bool = False,
        embedder: str | None = None,
        waiting: Waiting | None = None,
        reading: bool = False,
    ) -> Index:
        """The collection's open index, after finishing any work a crash interrupted (a
        new collection is made with `embedder`, by default the default one). While
        another Carrel process has the collection, this waits for it (as a process that
        only reads, with `reading`), telling `waiting` for whom once a second."""
        with self._lock:
            record = self._check(name, create=create, embedder=embedder)
            if name not in self._indexes:
                if not record.server_url and self._recover(name, waiting):
                    record = self._check(name, create=False)
                index = self._open_index(record, waiting, reading)
                self._indexes[name] = index
                if not (isinstance(index, SharedIndex) and index.others_waiting()):
                    # Pending work of a process waiting for its turn is not a crash's.
                    self._ingestor(name, index).reconcile()
            index = self._indexes[name]
            if waiting is not None and isinstance(index, SharedIndex):
                index.waiting = waiting
            return index

    def _open_index(
        self, record: CollectionRecord, waiting: Waiting | None = None, reading: bool = False
    ) -> Index:
        """The embedded shard, or the team's Qdrant server when the collection names one."""
        if not record.server_url:
            folder = self.folder(record.name)
            return SharedIndex(folder, record.dim, record.name, waiting=waiting, reading=reading)
        from app.rag.server_index import ServerIndex

        key = self.server_key(record.name) if self.server_key else None
        return ServerIndex.connect(
            record.server_url,
            record.dim,
            record.name,
            api_key=key,
            prefix=record.server_prefix,
            guard=self.guard,
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
            self.embedder_of(name),
            max_chunks=self.max_chunks,
            batch=self.batch,
            representation=record.representation if record else self.representation,
        )

    def drop(self, name: str) -> None:
        """Delete a collection: its record, its shard folder and its sentence vectors
        (quick at any size)."""
        with self._lock:
            check_name(name)
            record = self.records.collection(name)
            index = self._indexes.pop(name, None)
            if record is not None and record.server_url:
                # A server collection is dropped on the server too.
                (index or self._open_index(record)).drop()  # type: ignore[attr-defined]
            if index is not None:
                index.close()
            self.records.drop_collection(name)
            folder = self.folder(name)
            # No other process has the files open while they go.
            lease = ShardLease(self.index_root, collection_key(name))
            lease.acquire()
            try:
                for each in (folder, reembed.staging(folder), reembed.retired(folder)):
                    shutil.rmtree(each, ignore_errors=True)
                    remove_store(each)
            finally:
                lease.release()

    # files ------------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[Path],
        collection: str,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IngestReport:
        """Index files and folders into a collection (see `Ingestor.add`). A wait for
        another Carrel process comes as progress with the event "waiting"."""

        def waiting(line: str) -> None:
            if progress is not None:
                progress(IngestProgress(event="waiting", note=line))

        check_name(collection)
        if collection in self._reembedding:
            raise ReembeddingError(collection)
        # The model loads now (seconds), before the collection is taken from a process
        # that may be waiting for it (measured: a search waited 13 s without this).
        load = getattr(self.embedder, "load", None)
        if callable(load):
            load()
        index = self.index(collection, create=True, waiting=waiting)
        return self._ingestor(collection, index).add(list(paths), progress, cancel)

    def files(
        self, collection: str | None = None, sources: Iterable[str] | None = None
    ) -> list[FileRecord]:
        """The files recorded (in `collection`; of those, the ones in `sources`), by path."""
        if collection is not None:
            self._check(collection, create=False)
        return self.records.files(collection, sources)

    def remove(self, path: Path | str, collection: str) -> bool:
        """Take one file (or every file under a folder) out of a collection."""
        return bool(self.remove_all([path], collection))

    def remove_all(self, paths: Iterable[Path | str], collection: str) -> list[str]:
        """Take files (or every file under a folder) out of a collection at once; the
        files it had, by path. (One read of the records and one flush, however many.)"""
        if collection in self._reembedding:
            raise ReembeddingError(collection)
        index = self.index(collection)
        places = {str(Path(p).expanduser().resolve()) for p in paths}
        ingestor = self._ingestor(collection, index)
        sources = [f.source for f in self.records.files(collection) if within(f.source, places)]
        return ingestor.remove_all(sources)

    # retrieval --------------------------------------------------------------------------

    def search(
        self,
        query: str,
        collection: str,
        k: int = 10,
        files: list[str] | None = None,
        mode: Mode = "hybrid",
        waiting: Waiting | None = None,
        reranker_name: str | None = None,
    ) -> list[Citation]:
        """The best `k` passages for `query` (see `index` for `waiting`); with the
        collection's reranker (or `reranker_name`: "" for none), the fused top `DEPTH`
        re-scored by it (each hit then carries both scores). The query is embedded first:
        loading the model takes seconds, which are not spent holding a collection another
        process may be waiting for."""
        sources = [str(Path(f).expanduser().resolve()) for f in files] if files else None
        embedder = self.embedder_of(collection)
        dense = None if mode == "bm25" else embedder.embed([query])[0]
        record = self._check(collection, create=False)
        chosen = record.reranker if reranker_name is None else reranker_name
        reranker = self.models.reranker(chosen) if chosen else None
        index = self.index(collection, waiting=waiting, reading=True)
        retriever = Retriever(index, embedder, collection)
        depth = max(k, DEPTH) if reranker else k
        found = retriever.search(query, depth, sources=sources, mode=mode, dense=dense)
        return rerank(reranker, query, found, k) if reranker else found

    # models -----------------------------------------------------------------------------

    def set_reranker(self, collection: str, name: str) -> None:
        """Have `collection`'s searches re-scored by reranker `name` ("" for none). The
        reranker is loaded and run once first (a cross-encoder's network is exported the
        first time: ~7 s), so a model that is not installed or cannot run is refused here,
        the collection left as it was, and the first search does not wait for it. Blocks
        (run it in a worker)."""
        self._check(collection, create=False)
        if name:
            self.models.reranker(name).score("Carrel", ["Carrel"])
        self.records.set_reranker(collection, name)

    def change_embedder(
        self,
        collection: str,
        name: str,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Re-embed `collection` with embedder `name` (`app.rag.reembed`); searches go on
        with the old embedder until the new index is complete and swapped in. Blocks (run
        it in a worker); False if cancelled. One process at a time re-embeds a
        collection (`reembed.claim`); the swap is made under the collection's lease."""
        folder = self.folder(collection)
        with self._lock:
            record = self._check(collection, create=False)
            if record.server_url:
                raise CarrelError(
                    f"'{collection}' lives on a Qdrant server; move it back here first"
                    " (carrel docs server NAME --local) to change its embedder."
                )
            if collection in self._reembedding:
                raise ReembeddingError(collection)
            new = self.models.embedder(name)
            index = self.index(collection)
            assert isinstance(index, EdgeIndex)
            claim = reembed.claim(folder)
            if claim is None:
                raise ReembeddingError(collection)
            self._reembedding.add(collection)
        try:
            if not reembed.build(index, folder, new, progress, cancel, self.representation):
                return False
            meta = {
                "embedder": new.name,
                "dim": new.dim,
                "revision": str(getattr(new, "revision", "")),
                "representation": self.representation,
            }
            reembed.mark_ready(folder, meta)
            with self._lock:
                old = self._indexes.pop(collection, None)
                if old is not None:
                    old.close()
                lease = ShardLease(self.index_root, collection_key(collection))
                lease.acquire()
                try:
                    reembed.recover(folder, self.records, collection)  # the swap
                finally:
                    lease.release()
                self.index(collection)
            return True
        finally:
            claim.release()
            self._reembedding.discard(collection)

    def _recover(self, name: str, waiting: Waiting | None) -> bool:
        """Finish or undo a re-embed's swap a crash cut short (under the collection's
        lease, and not while another process re-embeds it); True if there was one."""
        folder = self.folder(name)
        if not reembed.interrupted(folder):
            return False
        claim = reembed.claim(folder)
        if claim is None:
            return False  # a live process is re-embedding it: its staging shard stays
        try:
            lease = ShardLease(self.index_root, collection_key(name))
            lease.acquire(waiting)
            try:
                reembed.recover(folder, self.records, name)
            finally:
                lease.release()
        finally:
            claim.release()
        return True
