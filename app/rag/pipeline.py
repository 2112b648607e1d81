"""`Reader`: a thread that stats, hashes, loads and chunks the next files while the
ingest thread embeds.

Embedding is the slow step (the runtime releases the GIL while it computes), so reading
ahead in parallel hides the loading time. How far ahead is counted in passages (`ahead`;
the ingest lets it hold four steps of the embedder): the reader reads the next file while
fewer than `ahead` passages wait in its queue. Until issue 16's fifth round it stayed one
file ahead, so a slow file (a scanned PDF that Tesseract reads, ~2 s a page) began only
when the file before it was taken, and the embedder ran out of work meanwhile: on the
second development set the ingest waited ~15 s of its ~49 on the reader. 1,024 passages
ahead took ~9 % off that ingest's wall time, over four noisy pairs (BENCHMARKS.md). Memory holds
at most `ahead` passages plus one file's beyond those being embedded (a passage is ~1 KB
of text). A file deleted after it was read and before it is taken in is reported as
deleted by the ingest (`app.rag.ingest`). Unchanged files (size and mtime, or content
hash, as recorded) are passed on without being read, unless they were read by an older
`READING`: then they are read again as if changed, their old passages serving until the
new ones are in (and lending their vectors to passages embedded alike: `app.rag.reuse`).

Beside it, what the ingest needs of paths: the files of folders (`walk`), whether a file
is inside a place (`within`), and `Pending`, a read file waiting for its group.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import CarrelError
from app.rag.chunker import Chunk, Chunker
from app.rag.errors import DocumentTooLargeError
from app.rag.loaders import load, supported

# What the reader knows of a file from the record: size, mtime_ns, content hash.
Known = tuple[int, int, str]
# An ingest lets its reader hold this many embedding steps' passages ready (`ahead`).
READ_AHEAD_STEPS = 4


@dataclass
class Prepared:
    """One file as the reader left it: failed early, unchanged, or read into passages."""

    path: Path
    stat: os.stat_result | None = None
    content_hash: str = ""
    status: str = "read"  # read, failed, unchanged, same_content
    reason: str = ""  # why it failed before it could be read
    chunks: list[Chunk] = field(default_factory=list)
    pages: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    error: CarrelError | OSError | None = None  # raised while loading or chunking

    @property
    def source(self) -> str:
        return str(self.path)


# How a file becomes points: its loader, the chunker, what is embedded and what BM25 reads.
# Raised when a change there makes a file's points differ (2: plain-text headings, section
# titles read by BM25, a PDF's outline or its titles' type size naming its passages; 3:
# numbered bold titles naming them; issue 16's nineteenth to twenty-first rounds), so a
# file indexed before is read again the next time it is added, not left as it was. Its
# passages embedded alike take their earlier vectors (`app.rag.reuse`), so a new reading
# that changes no embedded text costs the reading, not the embedding.
READING = 3


def file_hash(path: Path) -> str:
    """The file's content hash, marked with the `READING` it is indexed under."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return f"{digest.hexdigest()}-r{READING}"


def reading_of(recorded_hash: str) -> int:
    """The `READING` a file recorded with `recorded_hash` was indexed under (1: before
    readings were recorded)."""
    _, mark, number = recorded_hash.rpartition("-r")
    return int(number) if mark and number.isdigit() else 1


def read_as_now(recorded_hash: str) -> bool:
    """Whether a file recorded with `recorded_hash` was read as this Carrel reads."""
    return reading_of(recorded_hash) == READING


def read_chunks(
    path: Path, max_chunks: int, stop: threading.Event | None = None
) -> tuple[list[Chunk], int, Chunker]:
    """A file's passages and page count; refuses past `max_chunks` before any embedding.
    Returns early (with what it has) once `stop` is set."""
    chunker = Chunker()
    chunks: list[Chunk] = []
    pages: set[int] = set()
    for chunk in chunker.chunks(load(path)):
        if stop is not None and stop.is_set():
            break
        chunks.append(chunk)
        if chunk.page is not None:
            pages.update(range(chunk.page, (chunk.page_end or chunk.page) + 1))
        if len(chunks) > max_chunks:
            raise DocumentTooLargeError(
                path, f"more than {max_chunks:,} passages, hours of embedding"
            )
    pages.update(p for p, _ in chunker.problems if p)
    return chunks, max(len(pages), 1 if chunks else 0), chunker


class Reader:
    """Prepares files in order on its own thread, up to `ahead` passages ahead of the
    ingest; iterate it on the ingest thread."""

    def __init__(
        self,
        paths: list[Path],
        known: dict[str, Known],
        max_chunks: int,
        reading: Callable[[Path], None] | None = None,
        ahead: int = 1,
    ) -> None:
        """`reading` is told (on the reader's thread) of each file it starts to load; the
        next file is read while fewer than `ahead` passages wait to be taken (1: one file
        ahead)."""
        self._reading = reading
        self._paths = paths
        self._known = known
        self._max_chunks = max_chunks
        self._ahead = max(1, ahead)
        self._out: queue.Queue[Prepared | BaseException | None] = queue.Queue()
        self._room = threading.Condition()
        self._waiting = 0  # passages read and not yet taken
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carrel-ingest-reader")
        self._thread.daemon = True
        self._thread.start()

    def __iter__(self) -> Iterator[Prepared]:
        while True:
            item = self._out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            with self._room:
                self._waiting -= len(item.chunks)
                self._room.notify()
            yield item

    def close(self) -> None:
        """Stop reading ahead and wait for the thread (between files or between passages)."""
        self._stop.set()
        with self._room:
            self._room.notify()
        self._thread.join()

    def _run(self) -> None:
        try:
            for path in self._paths:
                if self._stop.is_set():
                    break
                item = self._prepare(path)
                with self._room:
                    self._waiting += len(item.chunks)
                self._out.put(item)
        except BaseException as exc:  # handed to the ingest thread, which raises it
            self._out.put(exc)
        finally:
            self._out.put(None)

    def _prepare(self, path: Path) -> Prepared:
        item = Prepared(path)
        try:
            item.stat = path.stat()
        except FileNotFoundError:
            return _failed(item, f"'{path.name}' was deleted before it could be read.")
        except OSError as exc:
            return _failed(item, f"'{path.name}' cannot be opened: {exc.strerror}.")
        if not stat.S_ISREG(item.stat.st_mode):
            return _failed(item, f"'{path.name}' is not a regular file.")
        known = self._known.get(item.source)
        st = item.stat
        if known and (known[0], known[1]) == (st.st_size, st.st_mtime_ns) and read_as_now(known[2]):
            item.status = "unchanged"
            return item
        try:
            item.content_hash = file_hash(path)
        except FileNotFoundError:
            return _failed(item, f"'{path.name}' was deleted while it was being read.")
        except OSError as exc:
            return _failed(item, f"'{path.name}' cannot be read: {exc.strerror}.")
        if known and known[2] == item.content_hash:
            item.status = "same_content"
            return item
        with self._room:
            while self._waiting >= self._ahead and not self._stop.is_set():
                self._room.wait()
        if self._stop.is_set():
            return _failed(item, "The ingest was cancelled.")
        if self._reading is not None:
            self._reading(path)
        try:
            item.chunks, item.pages, chunker = read_chunks(path, self._max_chunks, self._stop)
            item.problems = chunker.problems
        except (CarrelError, OSError) as exc:
            item.error = exc
        return item


def _failed(item: Prepared, reason: str) -> Prepared:
    item.status = "failed"
    item.reason = reason
    return item


def walk(paths: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    """(file, folder it was found in or None) for files and the supported files of folders;
    a path that is not there is skipped (see `missing`)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    child = Path(root) / name
                    if not name.startswith(".") and supported(child):
                        yield child, path
        elif path.exists() or path.is_symlink():
            yield path, None


def within(source: str, places: set[str]) -> bool:
    """Whether the resolved path `source` is one of `places` or inside one of them (a set
    of resolved paths): a look-up per parent folder, where `Path.is_relative_to` against
    each place made removing many files from a big collection take minutes."""
    path = source
    while True:
        if path in places:
            return True
        parent = os.path.dirname(path)  # noqa: PTH120 - on strings: no Path made per step
        if parent == path:
            return False
        path = parent


def missing(paths: Iterable[Path]) -> list[Path]:
    """The paths that are not there at all (a typo, a file never made)."""
    return [p for p in paths if not p.exists() and not p.is_symlink()]


def describe_problems(problems: list[tuple[int | None, str]]) -> str:
    """What went wrong while reading a file, in one line: pages that need OCR, then the
    first few other problems."""
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


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class Pending:
    """A read file taken in to be embedded with the next group: where its outcome goes in
    the report, its size, the seconds spent on it so far, its notes and pages."""

    item: Prepared
    slot: int
    size: int
    seconds: float
    notes: str
    pages: int
