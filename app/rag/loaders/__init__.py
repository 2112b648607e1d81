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
    ".csv": load_csv,
    ".tsv": load_csv,
    ".eml": load_eml,
    ".mbox": load_mbox,
}
# Formats read whole into memory (the others stream), so their size is capped.
WHOLE_FILE = {load_html, load_markdown}

__all__ = ["LOADERS", "Loader", "Section", "load", "loader_for", "supported"]


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
    if loader in WHOLE_FILE and path.stat().st_size > MAX_WHOLE_FILE_BYTES:
        raise DocumentTooLargeError(path, f"{path.stat().st_size / 1e6:.0f} MB")
    with path.open("rb") as data:
        yield from loader(data, path.name)
