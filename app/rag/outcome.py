"""What an ingest reports: `Progress` while it runs, an `IngestReport` of `FileOutcome`s
when it ends. Plain data, shared by the ingest, the CLI and the Documents page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
