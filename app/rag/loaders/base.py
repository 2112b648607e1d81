"""What every loader yields (`Section`) and the streaming splitter they share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# No section is longer than this: a 200 MB single-line log is cut into pieces of this size
# as it streams, so no loader ever holds one giant string.
MAX_SECTION_CHARS = 8_000
# Formats parsed as a whole (HTML, DOCX parts, Markdown) are refused past this size.
MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024
READ_BLOCK_CHARS = 1 << 20


@dataclass(frozen=True)
class Section:
    """A block of text (a paragraph or part of one) with where it was found.

    `page` is 1-based (PDF page, mbox message) or None; `start` is the character offset of
    the text in its page, or in the whole document when there are no pages. A section with
    `problem` set carries no text: it reports a page that needs OCR or a part that failed.
    `record` marks a row of a table (a CSV line): it stands on its own, not in a text.
    `outline`: the document's outline over the section's page (a PDF's bookmarks, or its
    titles told by type size), as (offset in the page, section path from there) marks, the
    first at or before `start`. It names passages in citations (`outline_at`) and neither
    cuts them nor changes what is embedded, unlike `heading`.
    """

    text: str
    page: int | None = None
    heading: tuple[str, ...] = ()
    start: int = 0
    problem: str = ""
    record: bool = False
    outline: tuple[tuple[int, tuple[str, ...]], ...] = ()

    def outline_at(self, offset: int) -> tuple[str, ...]:
        """The outline's section path in force at `offset` of the page (() without one)."""
        path: tuple[str, ...] = ()
        for at, marked in self.outline:
            if at > offset:
                break
            path = marked
        return path


def paragraphs(blocks: Iterable[str], cap: int = MAX_SECTION_CHARS) -> Iterator[tuple[int, str]]:
    """Split streamed text into (offset, paragraph) at blank lines, cutting any paragraph
    longer than `cap` at a space. Holds at most one block plus `cap` characters."""
    for offset, para, _ in indented_paragraphs(blocks, cap):
        yield offset, para


def indented_paragraphs(
    blocks: Iterable[str], cap: int = MAX_SECTION_CHARS
) -> Iterator[tuple[int, str, int]]:
    """`paragraphs`, each with how far its first line was indented (spaces and tabs before
    it on its line, which the paragraph's text leaves out)."""
    buf = ""
    pos = 0  # where unread text starts in buf
    base = 0  # document offset of buf[0]
    ended = False
    it = iter(blocks)
    while True:
        if not ended and len(buf) - pos < 2 * cap:
            block = next(it, None)
            if block is None:
                ended = True
            else:
                buf = buf[pos:] + block
                base += pos
                pos = 0
                continue
        if pos >= len(buf):
            if ended:
                return
            continue
        window_end = min(len(buf), pos + cap)
        brk = buf.find("\n\n", pos, window_end + 2)
        if brk != -1:
            cut, nxt = brk, brk + 2
        elif len(buf) - pos > cap:
            space = max(buf.rfind(" ", pos, window_end), buf.rfind("\n", pos, window_end))
            cut = space if space > pos + cap // 2 else window_end
            nxt = cut
        elif ended:
            cut = nxt = len(buf)
        else:
            continue
        piece = buf[pos:cut]
        stripped = piece.lstrip()
        if stripped.strip():
            lead = piece[: len(piece) - len(stripped)]
            indent = len(lead) - (lead.rfind("\n") + 1)
            yield base + pos + len(lead), stripped.rstrip(), indent
        pos = nxt
