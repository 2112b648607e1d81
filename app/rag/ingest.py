"""`Ingestor`: files and folders into a collection, each file wholly in or not at all.

For each file: stat → skip if size and mtime match the record (else hash, skip if the
content is the same) → load and chunk (refused past `max_chunks` before any embedding) →
embed in batches (sentence by sentence, see `represent`) → upsert → flush → record. A
failure is recorded with its reason and the next file goes on; `cancel` is checked
between files and between batches.

The first steps (stat, hash, load, chunk) run one file ahead on a `Reader` thread, so
parsing overlaps with embedding. Each batch is one upsert (dense vectors plus BM25 sparse
vectors in the same points) and the shard is flushed once per file, where the record is
committed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import CarrelError
from app.rag.chunker import Chunk
from app.rag.embedder import Embedder
from app.rag.index import Index, IndexPoint, point_id
from app.rag.loaders import supported
from app.rag.pipeline import Known, Prepared, Reader
from app.rag.records import FileRecord, Records
from app.rag.represent import embed_chunks

EMBED_BATCH = 64
MAX_CHUNKS_PER_FILE = 20_000  # ~10 min of embedding on two cores: split bigger files


@dataclass
class Progress:
    """Where an ingest stands; `rate` is chunks per second, `eta_s` None until known."""

    files_done: int = 0
    files_total: int = 0
    pages: int = 0
    chunks: int = 0
    current: str = ""
    rate: float = 0.0
    eta_s: float | None = None
    event: str = ""


@dataclass
class FileOutcome:
    """What happened to one file in an ingest."""

    source: str
    status: str  # indexed, unchanged, failed, needs_ocr, removed, cancelled
    reason: str = ""
    pages: int = 0
    chunks: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "pages": self.pages,
            "chunks": self.chunks,
        }


@dataclass
class IngestReport:
    """The outcome of `Ingestor.add`: one entry per file seen, plus totals."""

    files: list[FileOutcome] = field(default_factory=list)
    chunks: int = 0
    pages: int = 0
    seconds: float = 0.0
    cancelled: bool = False

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "needs_ocr": self.count("needs_ocr"),
            "removed": self.count("removed"),
            "chunks": self.chunks,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
        }


ProgressCallback = Callable[[Progress], None]


def walk(paths: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    """(file, folder it was found in or None) for files and the supported files of folders."""
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    child = Path(root) / name
                    if not name.startswith(".") and supported(child):
                        yield child, path
        else:
            yield path, None


class Ingestor:
    """Adds files to one collection's index and keeps the record in step with it."""

    def __init__(
        self,
        collection: str,
        index: Index,
        records: Records,
        embedder: Embedder,
        *,
        max_chunks: int = MAX_CHUNKS_PER_FILE,
        batch: int = EMBED_BATCH,
    ) -> None:
        self.collection = collection
        self.index = index
        self.records = records
        self.embedder = embedder
        self.max_chunks = max_chunks
        self.batch = batch

    # recovery ---------------------------------------------------------------------------

    def reconcile(self) -> int:
        """Undo adds that were interrupted and finish removals; returns how many."""
        pending = self.records.pending(self.collection)
        for source, content_hash, kind in pending:
            if kind == "add":
                self.index.delete_version(source, content_hash)
            else:
                self.index.delete_source(source, keep_hash=content_hash or None)
        if pending:
            self.index.flush()
            for source, content_hash, kind in pending:
                if kind == "add":
                    self.records.abandon(self.collection, source, content_hash)
                else:
                    self.records.done_pruning(self.collection, source, content_hash)
        return len(pending)

    # adding -----------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        found = [(p.expanduser().resolve(), folder) for p, folder in walk(paths)]
        folders = {folder.expanduser().resolve() for _, folder in found if folder is not None}
        folders |= {p.expanduser().resolve() for p in paths if p.is_dir()}
        state = Progress(files_total=len(found))
        total_bytes = sum(_size(p) for p, _ in found) or 1
        done_bytes = 0
        work_bytes = 0
        work_seconds = 0.0

        def tell(event: str) -> None:
            state.event = event
            elapsed = time.perf_counter() - started
            state.rate = state.chunks / elapsed if elapsed > 0 else 0.0
            if work_bytes and work_seconds:
                state.eta_s = (total_bytes - done_bytes) * work_seconds / work_bytes
            if progress is not None:
                progress(state)

        seen: set[str] = set()
        known: dict[str, Known] = {
            r.source: (r.size, r.mtime_ns, r.hash) for r in self.records.files(self.collection)
        }
        reader = Reader([p for p, _ in found], known, self.max_chunks)
        try:
            for item in reader:
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    break
                seen.add(item.source)
                state.current = item.source
                t0 = time.perf_counter()
                outcome = self._add_file(item, state, tell, reader, cancel)
                size = item.stat.st_size if item.stat else 0
                done_bytes += size
                if outcome.status != "unchanged":
                    work_bytes += size
                    work_seconds += time.perf_counter() - t0
                report.files.append(outcome)
                report.chunks += outcome.chunks
                report.pages += outcome.pages
                if outcome.status == "cancelled":
                    report.cancelled = True
                    break
                state.files_done += 1
                tell("file")
        finally:
            reader.close()
        if not report.cancelled:
            for record in self.records.files(self.collection):
                inside = any(_within(record.source, f) for f in folders)
                gone = inside and record.source not in seen and not Path(record.source).exists()
                if gone:
                    self.remove(record.source)
                    report.files.append(FileOutcome(record.source, "removed"))
        report.seconds = time.perf_counter() - started
        tell("done")
        return report

    def _add_file(
        self,
        item: Prepared,
        state: Progress,
        tell: Callable[[str], None],
        reader: Reader,
        cancel: threading.Event | None,
    ) -> FileOutcome:
        source, path, stat = item.source, item.path, item.stat
        if item.status == "failed" or stat is None:
            return FileOutcome(source, "failed", item.reason)
        if item.status in ("unchanged", "same_content"):
            known = self.records.file(self.collection, source)
            if known is None:  # removed by another ingest meanwhile: add it next time
                return FileOutcome(source, "unchanged")
            if item.status == "same_content":
                self.records.touch(self.collection, source, stat.st_mtime_ns)
            return FileOutcome(source, "unchanged", known.reason, known.pages, 0)
        content_hash = item.content_hash
        tell("start")
        reader.started()

        def record(status: str, reason: str, pages: int, chunks: int) -> FileOutcome:
            self.records.commit(
                FileRecord(
                    self.collection, source, content_hash, stat.st_size, stat.st_mtime_ns,
                    status, reason, pages, chunks, time.time(),
                )
            )  # fmt: skip
            self._prune(source, content_hash)
            return FileOutcome(source, status, reason, pages, chunks)

        if isinstance(item.error, CarrelError):
            return record("failed", item.error.message, 0, 0)
        if isinstance(item.error, FileNotFoundError):
            return record("failed", f"'{path.name}' was deleted while it was being read.", 0, 0)
        if item.error is not None:
            return record("failed", f"'{path.name}' cannot be read: {item.error.strerror}.", 0, 0)
        chunks, pages = item.chunks, item.pages
        ocr_pages = sorted({p for p, problem in item.problems if p and "OCR" in problem})
        notes = _notes(item.problems)
        if not chunks:
            if ocr_pages:
                return record("needs_ocr", f"No text layer: {notes}", pages, 0)
            reason = notes or f"'{path.name}' holds no text."
            return record("failed", reason, pages, 0)
        self.records.begin(self.collection, source, content_hash)
        for i in range(0, len(chunks), self.batch):
            if cancel is not None and cancel.is_set():
                self.index.delete_version(source, content_hash)
                self.index.flush()
                self.records.abandon(self.collection, source, content_hash)
                return FileOutcome(source, "cancelled", "The ingest was cancelled.")
            part = chunks[i : i + self.batch]
            vectors = embed_chunks(self.embedder, part)
            self.index.upsert(
                [
                    IndexPoint(
                        point_id(source, content_hash, i + j),
                        v.mean,
                        c.text,
                        _payload(source, content_hash, i + j, c),
                        v.sentences,
                    )
                    for j, (c, v) in enumerate(zip(part, vectors, strict=True))
                ]
            )
            state.chunks += len(part)
            tell("batch")
        item.chunks = []  # the passages are in the index: let them go before the record
        self.index.flush()
        state.pages += pages
        return record("indexed", notes, pages, len(chunks))

    def _prune(self, source: str, keep_hash: str) -> None:
        self.index.delete_source(source, keep_hash=keep_hash)
        self.index.flush()
        self.records.done_pruning(self.collection, source, keep_hash)

    def remove(self, source: str) -> bool:
        """Take a file out of the collection (record first, then its points)."""
        if self.records.file(self.collection, source) is None:
            return False
        self.records.forget(self.collection, source)
        self._prune(source, "")
        return True


def _payload(source: str, content_hash: str, n: int, chunk: Chunk) -> dict[str, Any]:
    return {
        "source": source,
        "hash": content_hash,
        "n": n,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "heading": list(chunk.heading),
        "start": chunk.start,
        "end": chunk.end,
    }


def _notes(problems: list[tuple[int | None, str]]) -> str:
    if not problems:
        return ""
    ocr = sorted({p for p, text in problems if p and "OCR" in text})
    other = [text for _, text in problems if "OCR" not in text]
    parts = []
    if ocr:
        shown = ", ".join(str(p) for p in ocr[:10]) + ("…" if len(ocr) > 10 else "")
        parts.append(f"{len(ocr)} page(s) need OCR ({shown})")
    parts.extend(other[:5])
    return "; ".join(parts)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _within(source: str, folder: Path) -> bool:
    return Path(source).is_relative_to(folder)
