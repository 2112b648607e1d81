"""Plain text and CSV, in any common encoding, detected (BOM, UTF-8, cp1252, Latin-1).

Plain text is read under its headings (`app.rag.loaders.plain`) unless `PLAIN_HEADINGS` is
off (a switch for the bench that measured it: issue 16's nineteenth round)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from app.rag.errors import UnreadableDocumentError
from app.rag.loaders.base import READ_BLOCK_CHARS, Section, indented_paragraphs, paragraphs
from app.rag.loaders.plain import Headings

SAMPLE_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes that never occur in text (everything below 0x20 except tab, LF, FF, CR, ESC).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
# Whether plain text is read under its headings: kept under a rule named first, on a
# plain-text set no search had run on (issue 16's nineteenth round, tests/bench/RULES.md).
PLAIN_HEADINGS = True


def detect_encoding(sample: bytes, name: str) -> str:
    """The encoding of a text sample; raises if the bytes are not text at all."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:
        # UTF-16 without a BOM has a zero in every other byte of ASCII text.
        even, odd = sample[0::2], sample[1::2]
        if odd and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
        raise _binary(name)
    controls = sum(sample.count(bytes([c])) for c in _CONTROL)
    if sample and controls > 0.01 * len(sample):
        raise _binary(name)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _binary(name: str) -> UnreadableDocumentError:
    return UnreadableDocumentError(
        Path(name),
        "it holds binary data, not text",
        "Rename it with its real extension or leave it out.",
    )


@contextlib.contextmanager
def open_text(data: BinaryIO, name: str) -> Iterator[io.TextIOWrapper]:
    """Wrap a binary stream as text in its detected encoding, never reading it all; the
    caller's stream stays open (and the caller closes it)."""
    own = not isinstance(data, io.BufferedReader)
    buffered: Any = io.BufferedReader(data) if own else data
    sample: bytes = buffered.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    encoding = detect_encoding(sample, name)
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline=None)
    try:
        yield text
    finally:
        text.detach()
        if own:
            buffered.detach()


def _blocks(text: io.TextIOWrapper) -> Iterator[str]:
    while block := text.read(READ_BLOCK_CHARS):
        yield block


def load_text(data: BinaryIO, name: str) -> Iterator[Section]:
    """Paragraphs of a text file under their headings, streamed: a 200 MB single line never
    sits in memory."""
    with open_text(data, name) as text:
        if PLAIN_HEADINGS:
            yield from Headings().sections(indented_paragraphs(_blocks(text)))
            return
        for offset, para in paragraphs(_blocks(text)):
            yield Section(para, start=offset)


def load_csv(data: BinaryIO, name: str) -> Iterator[Section]:
    """One section per row, each value labelled with its column name."""
    with open_text(data, name) as text:
        yield from _rows(text, name)


def _rows(text: io.TextIOWrapper, name: str) -> Iterator[Section]:
    sample = text.read(SAMPLE_BYTES)
    if not sample.strip():
        return
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    with contextlib.suppress(csv.Error):
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    lines = _chain(sample, text)
    reader = csv.reader(lines, delimiter=delimiter)
    offset = 0
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() or f"column {i + 1}" for i, h in enumerate(header)]
        for row in reader:
            if not any(v.strip() for v in row):
                continue
            pairs = [
                f"{header[i] if i < len(header) else f'column {i + 1}'}: {v.strip()}"
                for i, v in enumerate(row)
                if v.strip()
            ]
            line = "; ".join(pairs)
            yield Section(line, start=offset, record=True)
            offset += len(line) + 1
    except csv.Error as exc:
        raise UnreadableDocumentError(
            Path(name), f"it is not valid CSV ({exc})", "Check the file in a spreadsheet."
        ) from exc


def _chain(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    yield from io.StringIO(first + rest.readline())
    yield from rest
