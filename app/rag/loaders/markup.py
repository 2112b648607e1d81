"""HTML (boilerplate stripped, headings kept) and Markdown (headings kept)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import BinaryIO

from app.rag.loaders.base import MAX_WHOLE_FILE_BYTES, Section, paragraphs
from app.rag.loaders.text import open_text

# Parts of a page that are navigation or code, not content.
_SKIP = {
    "script", "style", "nav", "header", "footer", "aside", "noscript", "template",
    "svg", "form", "button", "select", "iframe", "head",
}  # fmt: skip
_BLOCK = {
    "p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "main",
    "pre", "blockquote", "dd", "dt", "dl", "figure", "figcaption", "hr", "td", "th",
}  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr", "source"}


class _Extractor(HTMLParser):
    """Collects (heading path, paragraph) pairs from HTML, skipping boilerplate."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_depth = 0
        self.stack: list[str] = []
        self.heading: list[tuple[int, str]] = []
        self.in_heading: int = 0
        self.heading_text: list[str] = []
        self.text: list[str] = []
        self.out: list[tuple[tuple[str, ...], str]] = []

    def _path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.heading)

    def _flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.out.append((self._path(), text))
        self.text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in _BLOCK and not self.skip_depth:
                self._flush()
            return
        self.stack.append(tag)
        if tag in _SKIP or self.skip_depth:
            self.skip_depth += 1
            return
        if tag in _HEADINGS:
            self._flush()
            self.in_heading = _HEADINGS[tag]
            self.heading_text = []
        elif tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            elif open_tag in _HEADINGS and self.in_heading:
                title = " ".join("".join(self.heading_text).split())
                level = self.in_heading
                self.in_heading = 0
                if title:
                    self.heading = [h for h in self.heading if h[0] < level] + [(level, title)]
            elif open_tag in _BLOCK:
                self._flush()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.in_heading:
            self.heading_text.append(data)
        else:
            self.text.append(data)


def load_html(data: BinaryIO, name: str) -> Iterator[Section]:
    """Text of an HTML page by heading, without scripts, styles, menus and footers."""
    with open_text(data, name) as stream:
        text = stream.read(MAX_WHOLE_FILE_BYTES)
    parser = _Extractor()
    parser.feed(text)
    parser.close()
    parser._flush()
    offset = 0
    for heading, para in parser.out:
        for sub_offset, piece in paragraphs([para]):
            yield Section(piece, heading=heading, start=offset + sub_offset)
        offset += len(para) + 2


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def load_markdown(data: BinaryIO, name: str) -> Iterator[Section]:
    """Paragraphs of a Markdown file under their heading path (ATX `#` headings)."""
    with open_text(data, name) as stream:
        text = stream.read(MAX_WHOLE_FILE_BYTES)
    heading: list[tuple[int, str]] = []
    in_fence = False
    block: list[str] = []
    block_start = 0
    offset = 0

    def flush() -> Iterator[Section]:
        body = "".join(block)
        path = tuple(t for _, t in heading)
        for sub, piece in paragraphs([body]):
            yield Section(piece, heading=path, start=block_start + sub)

    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line.rstrip("\n"))
        if match:
            yield from flush()
            level, title = len(match.group(1)), match.group(2).strip()
            heading = [h for h in heading if h[0] < level] + [(level, title)]
            block = []
            block_start = offset + len(line)
        else:
            if not block:
                block_start = offset
            block.append(line)
        offset += len(line)
    yield from flush()
