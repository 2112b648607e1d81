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
# ARIA landmarks that are not content, as the tags above are (`role="navigation"` is a
# `nav`), and Sphinx's sidebar, which carries none in some themes.
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
_SKIP_CLASSES = {"sphinxsidebar"}
# Whether a page's chrome marked only by those attributes is skipped, and a permalink mark
# (¶, #, an icon font's glyph: a same-page link without a letter or digit) left out of the
# text. Not shipped: on a Sphinx set no search had run on, under a rule named first, it
# gained two questions in the top five and lost none, but hybrid MRR@10 fell 0.629 ->
# 0.612 (issue 16's twenty-second round, tests/bench/RULES.md); `bench_rag_eval
# --page-chrome off,on` runs it on any set. Citations leave permalink marks out anyway
# (`points.shown_heading`).
PAGE_CHROME = False
# Whether an HTML table is read a row at a time, its cells joined by " | " and the blocks
# inside a cell read as spaces, not each cell as a paragraph. Not shipped: under a rule
# named first it moved one question of the Sphinx set from first to second (hybrid MRR@10
# 0.629 -> 0.618) and nothing else there, on the second Sphinx set or on dev2 (issue 16's
# twenty-second round, tests/bench/RULES.md); `bench_rag_eval --table-rows off,on`.
TABLE_ROWS = False
_CELLS = {"td", "th"}
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
        self.link_depth = 0  # inside a link to a place on the same page
        self.link_text: list[str] = []
        self.cell_depth = 0  # inside a table cell read into its row (`TABLE_ROWS`)
        self.row_cells = 0
        self.out: list[tuple[tuple[str, ...], str]] = []

    def _path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.heading)

    def _flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.out.append((self._path(), text))
        self.text = []
        self.row_cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in _BLOCK and not self.skip_depth:
                self._block()
            return
        self.stack.append(tag)
        if tag in _SKIP or self.skip_depth or (PAGE_CHROME and _chrome(attrs)):
            self.skip_depth += 1
            return
        if tag == "a" and PAGE_CHROME and self.link_depth == 0:
            if (dict(attrs).get("href") or "").startswith("#"):
                self.link_depth = len(self.stack)
                self.link_text = []
            return
        if self.link_depth and (tag in _HEADINGS or tag in _BLOCK):
            self._end_link()  # a link around a title or a block is not a permalink mark
        if tag in _HEADINGS:
            self._flush()
            self.in_heading = _HEADINGS[tag]
            self.heading_text = []
        elif TABLE_ROWS and tag in _CELLS and self._in_own_table():
            if self.row_cells:
                self.text.append(" | ")
            self.row_cells += 1
            self.cell_depth = len(self.stack)
        elif tag == "tr" and self._in_own_table():
            self.cell_depth = 0  # a row begins (the last one's end tags may be left out)
            self._flush()
        elif tag in _BLOCK:
            self._block()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            if self.skip_depth:
                self.skip_depth -= 1
            elif self.link_depth and len(self.stack) + 1 == self.link_depth:
                self._end_link()
            elif self.cell_depth and len(self.stack) + 1 == self.cell_depth:
                self.cell_depth = 0  # the cell ends, its row goes on
            elif open_tag in _HEADINGS and self.in_heading:
                title = " ".join("".join(self.heading_text).split())
                level = self.in_heading
                self.in_heading = 0
                if title:
                    self.heading = [h for h in self.heading if h[0] < level] + [(level, title)]
            elif open_tag in _BLOCK and not self.cell_depth:
                self._flush()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.link_depth:
            self.link_text.append(data)
        elif self.in_heading:
            self.heading_text.append(data)
        else:
            self.text.append(data)

    def _in_own_table(self) -> bool:
        """Whether the tag just opened is outside any cell, or in the current cell's own
        table (no table opened inside that cell): a cell or row whose end tag was left out
        ends where the next one begins."""
        return not self.cell_depth or "table" not in self.stack[self.cell_depth : -1]

    def _block(self) -> None:
        """A block starts: a paragraph ends, unless it is inside a cell read into its row."""
        if self.cell_depth:
            self.text.append(" ")
        else:
            self._flush()

    def _end_link(self) -> None:
        """A link to a place on the same page ends: its text is read unless it is only a
        permalink mark, with no letter or digit."""
        self.link_depth = 0
        text = "".join(self.link_text)
        if any(c.isalnum() for c in text):
            (self.heading_text if self.in_heading else self.text).append(text)


def _chrome(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether a tag's ARIA role or class marks it as the page's chrome, not its content."""
    values = dict(attrs)
    roles = (values.get("role") or "").lower().split()  # the first is the one meant
    if roles and roles[0] in _SKIP_ROLES:
        return True
    return not _SKIP_CLASSES.isdisjoint((values.get("class") or "").split())


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
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT_MATTER_END = ("---", "...")


def load_markdown(data: BinaryIO, name: str) -> Iterator[Section]:
    """Paragraphs of a Markdown file under their heading path: ATX `#` headings, and setext
    ones (a one-line paragraph underlined by `===`, level 1, or `---`, level 2; a YAML front
    matter's closing `---` is not one)."""
    with open_text(data, name) as stream:
        text = stream.read(MAX_WHOLE_FILE_BYTES)
    heading: list[tuple[int, str]] = []
    in_fence = False
    in_front = text.startswith("---\n")
    block: list[str] = []
    block_start = 0
    offset = 0

    def flush(lines: list[str]) -> Iterator[Section]:
        body = "".join(lines)
        path = tuple(t for _, t in heading)
        for sub, piece in paragraphs([body]):
            yield Section(piece, heading=path, start=block_start + sub)

    for n, line in enumerate(text.splitlines(keepends=True)):
        bare = line.rstrip("\n")
        front_end = in_front and n > 0 and bare.rstrip() in _FRONT_MATTER_END
        if front_end:
            in_front = False
        elif _FENCE.match(line):
            in_fence = not in_fence
        quiet = in_fence or in_front or front_end
        match = None if quiet else _MD_HEADING.match(bare)
        setext = None if quiet or match or not _setext_title(block) else _SETEXT.match(bare)
        if setext:
            yield from flush(block[:-1])
            level, title = (1 if setext.group(1)[0] == "=" else 2), block[-1].strip()
        elif match:
            yield from flush(block)
            level, title = len(match.group(1)), match.group(2).strip()
        if match or setext:
            heading = [h for h in heading if h[0] < level] + [(level, title)]
            block = []
            block_start = offset + len(line)
        else:
            if not block:
                block_start = offset
            block.append(line)
        offset += len(line)
    yield from flush(block)


def _setext_title(block: list[str]) -> bool:
    """Whether the block's last line is a paragraph of one line, not indented as code."""
    if not block or not block[-1].strip() or block[-1].startswith(("    ", "\t")):
        return False
    return len(block) == 1 or not block[-2].strip()
