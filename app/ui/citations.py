"""Opening a cited passage: the file on this machine, at its page when it is a PDF.

Shared by the Documents page (search hits), the chat (an answer's sources) and the built-in
viewer (`app.ui.viewer`), which shows the passage itself and hands a file to the desktop
only when asked. Only local files are ever opened: a source that is not an absolute path to
an existing file is refused with a `CarrelError`, so a citation can never make the system
open a network address.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from app.errors import CarrelError

# Viewers that honour "#page=N" (every common PDF viewer and browser) open the file there.
PAGED_SUFFIXES = {".pdf"}
# A passage is found in a page's text by its first words, then followed word by word.
LEAD_WORDS = 8


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


def find_passage(
    text: str, snippet: str, at: int | None = None, start: int = 0
) -> tuple[int, int] | None:
    """Where a cited passage is in `text`: the (start, end) of the longest run of the
    snippet's words, in order and separated by any whitespace, that begins with its first
    `LEAD_WORDS` words; None when they are not there. A match beginning exactly at `at`
    (the citation's own offset) wins; then the first one from `start` (where its page
    begins), then the first one anywhere."""
    words = snippet.split()
    if not words:
        return None
    lead = re.compile(r"\s+".join(re.escape(w) for w in words[:LEAD_WORDS]))
    found = None
    if at is not None and 0 <= at < len(text):
        found = lead.match(text, at)
    if found is None:
        found = lead.search(text, start)
    if found is None and start > 0:
        found = lead.search(text)
    if found is None:
        return None
    end = found.end()
    for word in words[LEAD_WORDS:]:
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == end or not text.startswith(word, pos):
            break
        end = pos + len(word)
    return found.start(), end
