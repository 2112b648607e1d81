"""Opening a cited passage: the file on this machine, at its page when it is a PDF.

Shared by the Documents page (search hits) and the chat (an answer's sources). Only local
files are ever opened: a source that is not an absolute path to an existing file is refused
with a `CarrelError`, so a citation can never make the system open a network address.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from app.errors import CarrelError
from app.rag.retrieve import Citation

# Viewers that honour "#page=N" (every common PDF viewer and browser) open the file there.
PAGED_SUFFIXES = {".pdf"}


class CitationNotOpenableError(CarrelError):
    """A cited file that cannot be opened: gone, moved, or not a file on this machine."""

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(
            f"Cannot open '{source}': {detail}. Re-index the collection if the file moved."
        )


def citation_url(source: str, page: int | None = None) -> QUrl:
    """The `file:` URL of a cited file, with `#page=N` for a PDF; refuses anything else."""
    path = Path(source)
    if not source or not path.is_absolute() or "://" in source:
        raise CitationNotOpenableError(source, "it is not a file on this machine")
    if not path.is_file():
        raise CitationNotOpenableError(source, "the file is no longer there")
    url = QUrl.fromLocalFile(str(path))
    if page is not None and page > 0 and path.suffix.lower() in PAGED_SUFFIXES:
        url.setFragment(f"page={page}")
    if not url.isLocalFile():  # pragma: no cover - fromLocalFile always gives file:
        raise CitationNotOpenableError(source, "it is not a file on this machine")
    return url


def open_source(source: str, page: int | None = None) -> QUrl:
    """Ask the desktop to open `source` (at `page` for a PDF); returns the URL opened.
    Raises a `CarrelError` when the file is not there or no program can open it."""
    url = citation_url(source, page)
    if not QDesktopServices.openUrl(url):
        raise CitationNotOpenableError(source, "no program on this machine opens it")
    return url


def open_citation(citation: Citation) -> QUrl:
    """Open the document a `Citation` points at, at its first page (see `open_source`)."""
    return open_source(citation.source, citation.page)
