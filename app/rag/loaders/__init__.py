"""Loaders per format: each turns a file into `Section`s of text with their location."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from app.rag.errors import DocumentTooLargeError, UnsupportedFormatError
from app.rag.loaders.base import MAX_WHOLE_FILE_BYTES, Section
from app.rag.loaders.mail import load_eml, load_mbox
from app.rag.loaders.markup import load_html, load_markdown
from app.rag.loaders.office import load_docx
from app.rag.loaders.pdf import load_pdf
from app.rag.loaders.text import load_csv, load_text

Loader = Callable[[BinaryIO, str], Iterator[Section]]

LOADERS: dict[str, Loader] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
    ".xhtml": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".log": load_text,
    ".rst": load_text,
    ".adoc": load_text,
    ".asciidoc": load_text,
    ".csv": load_csv,
    ".tsv": load_csv,
    ".eml": load_eml,
    ".mbox": load_mbox,
}
MB = 1024 * 1024
# The most a file of each format may weigh, checked before it is opened. Formats read
# whole (HTML, Markdown, one e-mail) are capped at what memory holds a few times over: a
# 1.5 GB .eml peaked at 5.8 GB before it was refused. Streamed ones are capped where they
# would pass `MAX_CHUNKS_PER_FILE` passages many times over anyway.
MAX_BYTES: dict[Loader, int] = {
    load_html: MAX_WHOLE_FILE_BYTES,
    load_markdown: MAX_WHOLE_FILE_BYTES,
    load_eml: MAX_WHOLE_FILE_BYTES,
    load_docx: 256 * MB,
    load_text: 256 * MB,
    load_csv: 256 * MB,
    load_mbox: 2048 * MB,
    load_pdf: 2048 * MB,
}

__all__ = ["LOADERS", "MAX_BYTES", "Loader", "Section", "load", "loader_for", "supported"]


def supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def loader_for(path: Path) -> Loader:
    try:
        return LOADERS[path.suffix.lower()]
    except KeyError:
        raise UnsupportedFormatError(path, sorted(LOADERS)) from None


def load(path: Path) -> Iterator[Section]:
    """The sections of a file on disk, read lazily; raises a `DocumentError` with the reason."""
    loader = loader_for(path)
    size = path.stat().st_size
    if size > MAX_BYTES[loader]:
        limit = MAX_BYTES[loader] / 1e6
        raise DocumentTooLargeError(path, f"{size / 1e6:,.0f} MB; at most {limit:,.0f} MB")
    with path.open("rb") as data:
        yield from loader(data, path.name)
