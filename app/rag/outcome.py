"""What an ingest reports: `IngestProgress` while it runs, an `IngestReport` of
`FileOutcome`s when it ends. Plain data, shared by the ingest, the CLI and the Documents
page, each with the one line both faces show (`describe`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.units import duration

# How a file's state reads for a person (the record's status, or an ingest's outcome).
STATE_LABELS = {
    "queued": "queued",
    "reading": "reading…",
    "embedding": "embedding…",
    "indexed": "indexed",
    "failed": "failed",
    "needs_ocr": "needs OCR",
    "unchanged": "skipped (unchanged)",
    "cancelled": "cancelled",
    "removed": "removed",
}


def state_label(status: str) -> str:
    return STATE_LABELS.get(status, status)


@dataclass
class IngestProgress:
    """Where an ingest stands; `rate` is chunks per second, `eta_s` None until known.
    `event`: "start" (a file), "batch" (passages embedded), "file" (a file settled),
    "indexing" (waiting for a search-index step), "waiting" (for another Carrel process
    to let go of the collection; `note` says which), "done"; and "files": the files in
    `sources` moved to `file_state` ("queued", "reading", "embedding", then the outcome's
    status), a fresh object each time, told from the reader's thread for "reading".
    `reused`: passages that took an earlier version's vectors (`app.rag.reuse`)."""

    files_done: int = 0
    files_total: int = 0
    pages: int = 0
    chunks: int = 0
    reused: int = 0
    current: str = ""
    rate: float = 0.0
    eta_s: float | None = None
    event: str = ""
    note: str = ""
    sources: tuple[str, ...] = ()
    file_state: str = ""

    def describe(self) -> str:
        """'3/10 files · 120 chunks · 28.5 chunks/s · ETA 12 s · a.pdf'."""
        parts = [f"{self.files_done}/{self.files_total} files", f"{self.chunks} chunks"]
        if self.rate > 0:
            parts.append(f"{self.rate:.1f} chunks/s")
        if self.eta_s is not None and self.event != "done":
            parts.append(f"ETA {duration(self.eta_s)}")
        if self.event == "indexing":
            parts.append("building the search index")
        elif self.event == "waiting":
            parts.append(self.note or "waiting for another Carrel process")
        elif self.current and self.event not in ("done", ""):
            parts.append(Path(self.current).name)
        return " · ".join(parts)


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

    def describe(self) -> str:
        """'indexed   /d/a.pdf  (3 pages, 12 chunks)', with the reason of a failure."""
        line = f"{state_label(self.status):<9} {self.source}"
        if self.chunks:
            line += f"  ({self.pages} pages, {self.chunks} chunks)"
        if self.reason:
            line += f"  {self.reason}"
        return line


@dataclass
class IngestReport:
    """The outcome of `Ingestor.add`: one entry per file seen, plus totals (`reused`:
    passages that took an earlier version's vectors instead of being embedded)."""

    files: list[FileOutcome] = field(default_factory=list)
    chunks: int = 0
    reused: int = 0
    pages: int = 0
    seconds: float = 0.0
    cancelled: bool = False

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> bool:
        """Whether any file failed (the command's exit status says so)."""
        return self.count("failed") > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "needs_ocr": self.count("needs_ocr"),
            "removed": self.count("removed"),
            "chunks": self.chunks,
            "reused": self.reused,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
        }

    def describe(self) -> str:
        """'4 indexed, 1 skipped (unchanged), 1 failed, 0 need OCR, 0 removed in 3.2 s.',
        then how many passages kept their earlier vectors, if any did."""
        head = "Cancelled: " if self.cancelled else ""
        kept = f" {self.reused} passages kept their vectors." if self.reused else ""
        return (
            f"{head}{self.count('indexed')} indexed, {self.count('unchanged')} skipped "
            f"(unchanged), {self.count('failed')} failed, {self.count('needs_ocr')} need OCR, "
            f"{self.count('removed')} removed in {self.seconds:.1f} s.{kept}"
        )


ProgressCallback = Callable[[IngestProgress], None]
