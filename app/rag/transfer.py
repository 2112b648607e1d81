"""A collection moved between machines whole: its shard, its sentence vectors and its file
records, so that it answers searches exactly as it did where it was made (nothing is
embedded again).

`snapshot` hands out the files and records of a collection on this disk while its writes
are held (`EdgeIndex.held`), so they are one consistent state; `install` puts a verified
copy in its place from a folder staged on the same disk (renames, then one transaction),
and puts everything back as it was if any step fails. The bundle package (`app.bundle`)
drives both; nothing here knows about archives.

Work a crash left half done (`doc_pending` rows) travels with the records, so the first
open on the other machine finishes or undoes it exactly as `reconcile` would have here.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import CarrelError
from app.rag.index import EdgeIndex
from app.rag.records import CollectionRecord, FileRecord
from app.rag.sentences import store_path
from app.rag.service import Documents

# The sentence store's own file and its write-ahead log (SQLite replays it on open).
SENTENCE_SUFFIXES = ("", "-wal")


@dataclass(frozen=True)
class CollectionFiles:
    """A collection as it travels: its records, its passage count, and the files that hold
    it (the shard's folder and the sentence store's files, by their suffix)."""

    record: CollectionRecord
    files: list[FileRecord]
    pending: list[tuple[str, str, str]]
    passages: int
    shard: Path
    sentences: dict[str, Path] = field(default_factory=dict)


class ServerCollectionError(CarrelError):
    """A collection kept on a Qdrant server: its index is not on this disk to carry."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The collection '{name}' lives on a Qdrant server, not on this disk, so a bundle "
            "cannot carry it. Bring it back with 'carrel docs server NAME --local' and add its "
            "files again, or share the server instead."
        )


@contextmanager
def snapshot(documents: Documents, name: str) -> Iterator[CollectionFiles]:
    """The collection's files and records, unchanged while the block runs (writes to it
    wait; searches go on)."""
    index = documents.index(name)
    record = documents.records.collection(name)
    if record is None or record.server_url or not isinstance(index, EdgeIndex):
        raise ServerCollectionError(name)
    with index.held():
        sentences = {}
        for suffix in SENTENCE_SUFFIXES:
            path = store_path(index.folder)
            path = path.with_name(path.name + suffix)
            if path.is_file():
                sentences[suffix] = path
        yield CollectionFiles(
            record=record,
            files=documents.records.files(name),
            pending=documents.records.pending(name),
            passages=index.count(),
            shard=index.folder,
            sentences=sentences,
        )


def install(
    documents: Documents,
    staged: CollectionFiles,
    *,
    replace: bool,
    created_at: float | None = None,
) -> None:
    """Put a staged collection (its folder and files under the index folder, on the same
    disk) in place under `staged.record.name`: renames, then one transaction. An existing
    collection of that name is refused unless `replace`; a replaced one is kept aside until
    the new one is in and is put back if anything fails."""
    name = staged.record.name
    root = documents.index_root
    target = documents.folder(name)
    target_store = store_path(target)
    aside = root / f".{target.name}.replaced-{time.time_ns()}"
    with documents._lock:
        existing = documents.records.collection(name)
        if existing is not None and not replace:
            raise CarrelError(
                f"There is already a collection called '{name}'; replace it or skip it."
            )
        index = documents._indexes.pop(name, None)
        if index is not None:
            index.close()
        moved: list[tuple[Path, Path]] = []  # (from, to), undone in reverse on failure
        try:
            for old in (target, *_store_files(target_store)):
                if old.exists():
                    aside.mkdir(exist_ok=True)
                    _move(old, aside / old.name, moved)
            _move(staged.shard, target, moved)
            for suffix, path in staged.sentences.items():
                _move(path, target_store.with_name(target_store.name + suffix), moved)
            _write_records(documents, staged, created_at or time.time())
        except BaseException:
            for src, dst in reversed(moved):
                dst.rename(src)
            with contextlib.suppress(OSError):
                aside.rmdir()  # empty again; left (with the old collection) if not
            raise
        shutil.rmtree(aside, ignore_errors=True)


def _store_files(store: Path) -> list[Path]:
    return [store.with_name(store.name + extra) for extra in ("", "-wal", "-shm", "-journal")]


def _move(src: Path, dst: Path, moved: list[tuple[Path, Path]]) -> None:
    src.rename(dst)
    moved.append((src, dst))


def _write_records(documents: Documents, staged: CollectionFiles, created_at: float) -> None:
    """The collection's rows, its files' rows and its unfinished work, replacing any rows of
    a collection of the same name, in one transaction."""
    r = staged.record
    with documents.records.store.transaction() as db:
        for table in ("doc_files", "doc_pending"):
            db.execute(f"DELETE FROM {table} WHERE collection = ?", (r.name,))
        db.execute("DELETE FROM doc_collections WHERE name = ?", (r.name,))
        db.execute(
            "INSERT INTO doc_collections (name, embedder, dim, created_at, representation,"
            " revision, reranker) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (r.name, r.embedder, r.dim, created_at, r.representation, r.revision, r.reranker),
        )
        db.executemany(
            "INSERT INTO doc_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.name,
                    f.source,
                    f.hash,
                    f.size,
                    f.mtime_ns,
                    f.status,
                    f.reason,
                    f.pages,
                    f.chunks,
                    f.updated_at,
                )
                for f in staged.files
            ],
        )
        db.executemany(
            "INSERT OR IGNORE INTO doc_pending VALUES (?, ?, ?, ?)",
            [(r.name, source, version, kind) for source, version, kind in staged.pending],
        )
