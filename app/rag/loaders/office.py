"""DOCX with python-docx: paragraphs and tables in order, headings kept as the path."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.rag.errors import DocumentTooLargeError, UnreadableDocumentError
from app.rag.loaders.base import Section, paragraphs

# A DOCX is a zip: refuse one whose parts would inflate past this before parsing it.
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200


def check_zip(data: BinaryIO, name: str) -> None:
    """Refuse a zip bomb by the sizes in its directory, before anything is inflated."""
    try:
        with zipfile.ZipFile(data) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO:
                    raise DocumentTooLargeError(
                        Path(name),
                        f"part {info.filename} inflates {ratio:.0f}× to "
                        f"{info.file_size / 1e6:.0f} MB, a zip bomb",
                    )
            if total > MAX_UNZIPPED_BYTES:
                raise DocumentTooLargeError(Path(name), f"{total / 1e6:.0f} MB once unzipped")
    except zipfile.BadZipFile as exc:
        raise UnreadableDocumentError(
            Path(name), "it is not a valid DOCX (zip) file", "It may be damaged or misnamed."
        ) from exc
    data.seek(0)


def _heading_level(style_name: str) -> int | None:
    if style_name == "Title":
        return 0
    if style_name.startswith("Heading "):
        try:
            return int(style_name.split()[1])
        except ValueError:
            return None
    return None


def load_docx(data: BinaryIO, name: str) -> Iterator[Section]:
    """Paragraphs and table rows of a Word document under their heading path."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(data, name)
    try:
        document = docx.Document(data)
    except Exception as exc:  # python-docx raises many kinds for a bad package
        raise UnreadableDocumentError(
            Path(name), f"it is not a valid DOCX ({exc})", "Open and re-save it in Word."
        ) from exc
    heading: list[tuple[int, str]] = []
    offset = 0
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = item.style.name if item.style is not None else ""
            level = _heading_level(style or "")
            if level is not None and text:
                heading = [h for h in heading if h[0] < level] + [(level, text)]
                offset += len(text) + 2
                continue
            texts = [text]
        else:
            table: Table = item
            texts = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        path = tuple(t for _, t in heading)
        for text in texts:
            for sub, piece in paragraphs([text]):
                yield Section(piece, heading=path, start=offset + sub)
            offset += len(text) + 2
