"""`Ingestor`: files and folders into a collection, each file wholly in or not at all.

For each file: stat → skip if size and mtime match the record (else hash, skip if the
content is the same) → load and chunk (refused past `max_chunks` before any embedding) →
embed in batches (as the collection's representation says, see `passages`; a passage the
file's version in the index embedded alike takes its vectors, `app.rag.reuse`) → upsert →
flush → record. A failure is recorded with its reason and the next file goes on; `cancel`
is checked between files and between batches.

The first steps (stat, hash, load, chunk) run ahead on a `Reader` thread, up to
`read_ahead` passages, so parsing overlaps with embedding. Files are embedded in groups of
at least `batch` passages: a big file is a group of its own, while small files are
gathered so a folder of notes costs one model call and one flush per `batch` passages
rather than per file. Each batch is one upsert (dense vectors plus BM25 sparse vectors in
the same points); the shard is flushed once per group, and then the group's files are
recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from app.errors import CarrelError, NoSpaceError
from app.rag.embedder import Embedder
from app.rag.index import Index, IndexPoint, point_id
from app.rag.outcome import FileOutcome, IngestProgress, IngestReport, ProgressCallback
from app.rag.passages import DEFAULT_REPRESENTATION
from app.rag.pipeline import (
    READ_AHEAD_STEPS,
    Known,
    Pending,
    Prepared,
    Reader,
    describe_problems,
    file_size,
    missing,
    walk,
    within,
)
from app.rag.points import payload
from app.rag.records import DocumentRecords, FileRecord
from app.rag.reuse import Earlier

__all__ = [
    "EMBED_BATCH",
    "MAX_CHUNKS_PER_FILE",
    "FileOutcome",
    "IngestProgress",
    "IngestReport",
    "Ingestor",
    "ProgressCallback",
]

# Passages embedded per step. The embedder sorts a step's passages by length and pads each
# batch of 32 to its longest: in steps of 64 that padding was 20 % more word pieces than
# the text on the Gutenprint manual and two Debian Reference chapters; in steps of 256, 9 %.
EMBED_BATCH = 256
MAX_CHUNKS_PER_FILE = 20_000  # ~10 min of embedding on two cores: split bigger files


class Ingestor:
    """Adds files to one collection's index and keeps the record in step with it."""

    def __init__(
        self,
        collection: str,
        index: Index,
        records: DocumentRecords,
        embedder: Embedder,
        *,
        max_chunks: int = MAX_CHUNKS_PER_FILE,
        batch: int = EMBED_BATCH,
        representation: str = DEFAULT_REPRESENTATION,
    ) -> None:
        self.collection = collection
        self.representation = representation
        self.index = index
        self.records = records
        self.embedder = embedder
        self.max_chunks = max_chunks
        self.batch = batch
        self.read_ahead = READ_AHEAD_STEPS * batch  # passages ready (`pipeline.Reader`)
        self._indexing: Callable[[], None] = lambda: None  # tells of a wait for a build
        self._settled = (0, 0)  # files settled (recorded) of those found, for a full disk
        self._waiting: Callable[[str], None] | None = None  # tells of a wait for a turn

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
            name = self.collection
            self.records.abandon(name, [(s, h) for s, h, kind in pending if kind == "add"])
            self.records.done_pruning(name, [(s, h) for s, h, kind in pending if kind != "add"])
        return len(pending)

    # adding -----------------------------------------------------------------------------

    def add(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IngestReport:
        """Add files and folders (see the module's docstring). Past the HNSW threshold the
        index builds its graph in steps meanwhile, and this waits for each (`Index.bulk`):
        progress says so with the event "indexing"."""
        with self.index.bulk(lambda: self._indexing()):
            try:
                return self._add(paths, progress, cancel)
            except NoSpaceError as exc:
                done, total = self._settled
                raise exc.saying(
                    f"{done} of {total} files were settled and are saved; add the files "
                    "again to index the rest."
                ) from exc

    def _add(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        paths = list(paths)
        for path in missing(paths):  # never there: not "deleted before it could be read"
            resolved = str(path.expanduser().resolve())
            report.files.append(FileOutcome(resolved, "failed", f"'{path}' not found."))
        found = [(p.expanduser().resolve(), folder) for p, folder in walk(paths)]
        folders = {f.expanduser().resolve() for f in {f for _, f in found if f is not None}}
        folders |= {p.expanduser().resolve() for p in paths if p.is_dir()}
        state = IngestProgress(files_total=len(found))
        self._settled = (0, len(found))
        total_bytes = sum(file_size(p) for p, _ in found) or 1
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

        self._indexing = lambda: tell("indexing")

        def waiting(line: str) -> None:
            state.note = line
            tell("waiting")

        self._waiting = waiting

        def mark(file_state: str, *sources: str) -> None:  # the live file list's states
            if progress is not None and sources:
                progress(IngestProgress(event="files", sources=sources, file_state=file_state))

        mark("queued", *(str(p) for p, _ in found))

        seen: set[str] = set()
        # A file that failed is read again, whatever its size and date: it stays failed
        # until it indexes.
        known: dict[str, Known] = {
            r.source: (r.size, r.mtime_ns, r.hash)
            for r in self.records.files(self.collection)
            if r.status != "failed"
        }
        group: list[Pending] = []  # read files waiting to be embedded together
        grouped = 0  # their passages

        def finish(outcome: FileOutcome, slot: int, size: int, seconds: float) -> None:
            nonlocal done_bytes, work_bytes, work_seconds
            done_bytes += size
            if outcome.status != "unchanged":
                work_bytes += size
                work_seconds += seconds
            report.files[slot] = outcome
            mark(outcome.status, outcome.source)
            report.chunks += outcome.chunks
            report.pages += outcome.pages
            if outcome.status == "cancelled":
                report.cancelled = True
                return
            state.files_done += 1
            self._settled = (state.files_done, state.files_total)
            tell("file")

        def run_group() -> None:
            nonlocal grouped
            t0 = time.perf_counter()
            mark("embedding", *(p.item.source for p in group))
            outcomes = self._index_group(group, state, tell, cancel)
            share = (time.perf_counter() - t0) / len(group)
            for pending, outcome in zip(group, outcomes, strict=True):
                finish(outcome, pending.slot, pending.size, pending.seconds + share)
            group.clear()
            grouped = 0

        reader = Reader(
            [p for p, _ in found],
            known,
            self.max_chunks,
            lambda p: mark("reading", str(p)),
            ahead=self.read_ahead,
        )
        try:
            for item in reader:
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    break
                if not group:  # nothing half written: another process may have a turn
                    self.index.offer_turn(waiting)
                seen.add(item.source)
                state.current = item.source
                t0 = time.perf_counter()
                slot = len(report.files)
                report.files.append(
                    FileOutcome(item.source, "cancelled", "The ingest was cancelled.")
                )
                settled = self._settle(item, tell)
                size = item.stat.st_size if item.stat else 0
                if isinstance(settled, FileOutcome):
                    finish(settled, slot, size, time.perf_counter() - t0)
                else:
                    # Small files are embedded together (one model call and one flush for
                    # many); a file that would take the group past `batch` passages waits
                    # for the group before it to be recorded first.
                    if group and grouped + len(item.chunks) > self.batch:
                        run_group()
                    group.append(Pending(item, slot, size, time.perf_counter() - t0, *settled))
                    grouped += len(item.chunks)
                    if grouped >= self.batch:
                        run_group()
                if report.cancelled:
                    break
            if group and not report.cancelled:
                run_group()
        finally:
            reader.close()
        if group:  # cancelled before its group was embedded (an error leaves it to reconcile)
            self._abandon(group)
        if folders and not report.cancelled:  # a file gone from a folder added again
            inside = {str(f) for f in folders}
            gone = [
                r.source
                for r in self.records.files(self.collection)
                if r.source not in seen and within(r.source, inside) and not Path(r.source).exists()
            ]
            for source in self.remove_all(gone):
                report.files.append(FileOutcome(source, "removed"))
        report.seconds, report.reused = time.perf_counter() - started, state.reused
        tell("done")
        return report

    def _settle(self, item: Prepared, tell: Callable[[str], None]) -> FileOutcome | tuple[str, int]:
        """The outcome of a file that needs no embedding, or (notes, pages) of one to be
        embedded (its add is begun in the record with its group's, `_index_group`)."""
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
        tell("start")

        def record(status: str, reason: str, pages: int) -> FileOutcome:
            self._commit([(item, status, reason, pages)])
            return FileOutcome(source, status, reason, pages, 0)

        if item.error is None and not path.exists():  # read ahead, then deleted
            return record("failed", f"'{path.name}' was deleted before it was indexed.", 0)
        if isinstance(item.error, CarrelError):
            return record("failed", item.error.message, 0)
        if isinstance(item.error, FileNotFoundError):
            return record("failed", f"'{path.name}' was deleted while it was being read.", 0)
        if item.error is not None:
            return record("failed", f"'{path.name}' cannot be read: {item.error.strerror}.", 0)
        notes = describe_problems(item.problems)
        if not item.chunks:
            if any(p and "OCR" in problem for p, problem in item.problems):
                return record("needs_ocr", f"No text layer: {notes}", item.pages)
            return record("failed", notes or f"'{path.name}' holds no text.", item.pages)
        return notes, item.pages

    def _index_group(
        self,
        group: list[Pending],
        state: IngestProgress,
        tell: Callable[[str], None],
        cancel: threading.Event | None,
    ) -> list[FileOutcome]:
        """Embed and upsert the passages of `group` in batches that run across its files,
        flush once, then record every file as indexed. The adds are begun in the record
        first, in one transaction: a crash from here on is undone at the next open. A
        passage embedded alike before (`app.rag.reuse`) takes those vectors."""
        mine = self.records.files(self.collection, [p.item.source for p in group])
        alike = self.records.same_content(self.collection, [p.item.content_hash for p in group])
        versions = {(r.source, r.hash) for r in [*mine, *alike] if r.chunks}
        earlier = Earlier(self.index, sorted(versions))
        self.records.begin(self.collection, [(p.item.source, p.item.content_hash) for p in group])
        passages = [(p.item, n, c) for p in group for n, c in enumerate(p.item.chunks)]
        for i in range(0, len(passages), self.batch):
            if cancel is not None and cancel.is_set():
                self._abandon(group)
                return [FileOutcome(p.item.source, "cancelled", "The ingest was cancelled.")
                        for p in group]  # fmt: skip
            part = passages[i : i + self.batch]
            state.current = part[-1][0].source
            ids = [point_id(item.source, item.content_hash, n) for item, n, _ in part]
            vectors = earlier.embed(self.embedder, [c for *_, c in part], self.representation, ids)
            self.index.upsert(
                [
                    IndexPoint(
                        point,
                        v.mean,
                        c.text,
                        payload(item.source, item.content_hash, n, c),
                        v.sentences or None,
                    )
                    for point, (item, n, c), v in zip(ids, part, vectors, strict=True)
                ]
            )
            state.chunks += len(part)
            tell("batch")
            self.index.offer_turn(self._waiting, mid_add=True)  # to a reader only
        del passages
        state.reused += earlier.reused
        counts = [len(p.item.chunks) for p in group]
        for p in group:
            p.item.chunks = []  # the passages are in the index: let them go before the record
        self.index.flush()
        state.pages += sum(p.pages for p in group)
        self._commit([(p.item, "indexed", p.notes, p.pages) for p in group], counts)
        return [
            FileOutcome(p.item.source, "indexed", p.notes, p.pages, n)
            for p, n in zip(group, counts, strict=True)
        ]

    def _commit(
        self, done: list[tuple[Prepared, str, str, int]], counts: list[int] | None = None
    ) -> None:
        """Record files as settled, then drop their other versions from the index (one
        flush for all)."""
        records = []
        for j, (item, status, reason, pages) in enumerate(done):
            stat = item.stat
            assert stat is not None
            records.append(
                FileRecord(
                    self.collection, item.source, item.content_hash, stat.st_size,
                    stat.st_mtime_ns, status, reason, pages, counts[j] if counts else 0,
                    time.time(),
                )
            )  # fmt: skip
        self.records.commit(*records)
        for item, *_ in done:
            self.index.delete_source(item.source, keep_hash=item.content_hash)
        self.index.flush()
        self.records.done_pruning(
            self.collection, [(item.source, item.content_hash) for item, *_ in done]
        )

    def _abandon(self, group: list[Pending]) -> None:
        """Take back the adds of a group that will not be finished."""
        for p in group:
            self.index.delete_version(p.item.source, p.item.content_hash)
        self.index.flush()
        self.records.abandon(self.collection, [(p.item.source, p.item.content_hash) for p in group])

    def remove_all(self, sources: Iterable[str]) -> list[str]:
        """Take files out of the collection: their records first (in one transaction, each
        marked to be pruned, so a crash leaves the rest to the next open), then their
        points, flushed once. Returns the files it had, in the order given."""
        wanted = list(dict.fromkeys(sources))
        known = {r.source for r in self.records.files(self.collection, wanted)}
        gone = [source for source in wanted if source in known]
        if gone:
            self.records.forget(self.collection, gone)
            for source in gone:
                self.index.delete_source(source, keep_hash="")
            self.index.flush()
            self.records.done_pruning(self.collection, [(source, "") for source in gone])
        return gone
