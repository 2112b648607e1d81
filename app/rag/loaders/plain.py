"""Headings in plain text, so a passage of a `.txt` or `.rst` manual knows its section.

Plain text has no markup, but its headings follow a few conventions that a person's files
use again and again:

- a one-line title underlined by a rule of one repeated punctuation character, with or
  without an overline of the same character: texinfo's plain text and info manuals (`*`,
  `=`, `-`, `.`), reStructuredText, Markdown's setext headings. Each style's level is the
  order in which it first appears in the file (reStructuredText's own rule), so `*` then
  `=` then `-` nest as texinfo's chapters, sections and subsections do. The rule must be
  at least 3 characters, from half the title's length to 4 more than it (AsciiDoc closes a
  block of code with a rule of its own length after the code's last line), and an overline
  and underline the same, from the title's length to 4 more (AsciiDoc fences a line of
  code so); a title is not a command after a shell's prompt (`$ `, `# `, `% `, `> `);
- a paragraph of one line that is a numbered title: `2.3 Title` or
  `2.3.1. Title` (level: how many numbers), `IV. Title` (level 1) and `3.  Title` (one
  number then two spaces, as RFCs and linuxdoc write chapters: level 1). A single number
  with one space (`1. Download it`) is a list item, not a heading, and a sentence that
  starts with a decimal number (`2.5 GB is needed.`) is a sentence;
- DocBook's chapter lines as its plain text writes them (`Chapter 4. Title`, `Appendix A.
  Title`: level 1), and AsciiDoc's section titles (`== Title`, level by the number of `=`,
  under any `[[anchor]]` or `[attribute]` lines of the same paragraph).

A line indented as code (four spaces or more) is never a title underlined by the next:
AsciiDoc ends a listing block with its fence right under the block's last line.

The heading's text leaves the passage and becomes its heading path (`Section.heading`),
which the chunker never crosses and which the embedded text and the citation carry; a
paragraph made of rules alone (a separator) is left out. Everything is decided one
paragraph at a time, so a text file still streams (`app.rag.loaders.text`).

Kept under a rule named before it ran (issue 16's nineteenth round, tests/bench/RULES.md;
figures in BENCHMARKS.md): on a plain-text set no search had run on, retrieval kept (one
question more in the top five, none lost) with section names in every citation, at the
same ingest CPU.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from app.rag.loaders.base import Section

_RULE = re.compile(r"""^([=\-~*#^"+_.:`'])\1{2,}$""")
_NUMBERED = re.compile(
    r"^(?:(?P<dotted>\d{1,3}(?:\.\d{1,3})+)\.?\s+"
    r"|(?P<roman>[IVXLC]{1,7})\.\s+(?=[A-Z])"
    r"|(?P<single>\d{1,3})\.?\s{2,})"
    r"(?P<title>\S.*)$"
)
# DocBook's plain text: "Chapter 4. Title", "Appendix A. Title", "Part II. Title". Kept
# under a rule named first (issue 16's twentieth round, tests/bench/RULES.md): the second
# plain-text set 0.636 -> 0.638 hybrid MRR@10, no question lost from the top five.
CHAPTER_LINES = True
_CHAPTER = re.compile(
    r"^(?:Chapter|Appendix|Part)\s+(?:\d{1,3}|[IVXLC]{1,7}|[A-Z])\.\s+(?P<title>\S.*)$"
)
# AsciiDoc's section titles: "== Title" (level: how many "="), the closing marks optional.
# One space after the marks, as AsciiDoc writes them: sed's "=   print the line number" is
# a command's description.
_ASCIIDOC = re.compile(r"^(?P<marks>={1,6}) (?P<title>[^=\s].*?)(?:\s+=+)?$")
_ATTRIBUTE = re.compile(r"^\[[^\]]*\]\]?$")
MAX_TITLE = 100
# A line indented this far is code (Markdown's rule; its setext titles may take three).
CODE_INDENT = 4
# A line that starts as a shell's prompt is a command shown in a fenced block, not a title.
_PROMPTS = ("$ ", "# ", "% ", "> ")


def _is_rule(line: str) -> bool:
    return bool(_RULE.match(line.strip()))


def _title_ok(line: str) -> bool:
    """At most `MAX_TITLE` characters, holding a letter, and not a command after a prompt."""
    title = line.strip()
    return (
        0 < len(title) <= MAX_TITLE
        and not _is_rule(title)
        and any(c.isalpha() for c in title)
        and not title.startswith(_PROMPTS)
    )


def _sentence(match: re.Match[str]) -> bool:
    """A one-line sentence that starts with a decimal number ("2.5 GB is needed."): the
    number has no dot of its own after it and the line ends with one. (An FAQ's "5.2. I'm
    using 'p' to print." is a title: its number ends with a dot.)"""
    dotted = match.group("dotted")
    title = match.group("title").rstrip()
    number_dot = match.group(0)[len(dotted or "") :].startswith(".")
    return bool(dotted) and not number_dot and title.endswith(".")


class Headings:
    """Tracks the heading path through a plain-text file, paragraph by paragraph."""

    def __init__(self) -> None:
        self.styles: list[str] = []  # underline styles, in order of first appearance
        self.path: list[tuple[int, str]] = []

    def sections(self, paragraphs: Iterable[tuple[int, str, int]]) -> Iterator[Section]:
        """(offset, paragraph, indent) triples, as `app.rag.loaders.base.
        indented_paragraphs` gives them, to sections under their heading path; headings
        and separators leave the text."""
        for offset, para, indent in paragraphs:
            lines = para.split("\n")
            taken = self._heading(lines, indent)
            if taken:
                consumed = sum(len(line) + 1 for line in lines[:taken])
                rest = para[consumed:]
                body = rest.lstrip()
                offset += consumed + len(rest) - len(body)
                para = body.rstrip()
            if not para or all(_is_rule(line) or not line.strip() for line in para.split("\n")):
                continue
            yield Section(para, heading=tuple(t for _, t in self.path), start=offset)

    def _heading(self, lines: list[str], indent: int = 0) -> int:
        """How many of `lines` make a heading at their start (0: none); records it. The
        first line indented by `CODE_INDENT` or more is code, never an underlined title
        (AsciiDoc's listing blocks end with their fence right under their last line)."""
        if len(lines) >= 3 and _is_rule(lines[0]) and _is_rule(lines[2]):
            over, under = lines[0].strip(), lines[2].strip()
            # As long as the title or a little longer (reStructuredText insets a title by a
            # space or two): AsciiDoc's listing blocks fence a line with rules of their own
            # length, often far longer or shorter than it.
            fits = len(lines[1].strip()) <= len(over) <= len(lines[1].strip()) + 4
            if over == under and fits and _title_ok(lines[1]):
                return self._enter(f"over{over[0]}", lines[1], 3)
        underlined = len(lines) >= 2 and _is_rule(lines[1]) and indent < CODE_INDENT
        if underlined and _title_ok(lines[0]):
            rule, title = lines[1].strip(), lines[0].strip()
            if len(title) / 2 <= len(rule) <= len(title) + 4:
                return self._enter(rule[0], title, 2)
        lead = 0  # AsciiDoc's anchors and attributes over a title ([[id]], [preface])
        while lead < len(lines) - 1 and _ATTRIBUTE.match(lines[lead].strip()):
            lead += 1
        marked = _ASCIIDOC.match(lines[lead].rstrip())
        if marked and _title_ok(marked.group("title")):
            return self._set(len(marked.group("marks")), marked.group("title"), lead + 1)
        if len(lines) != 1:
            return 0
        chapter = _CHAPTER.match(lines[0].rstrip()) if CHAPTER_LINES else None
        if chapter and _title_ok(chapter.group("title")):
            return self._set(1, lines[0].strip(), 1)
        match = _NUMBERED.match(lines[0].rstrip())
        if match and _title_ok(match.group("title")) and not _sentence(match):
            dotted = match.group("dotted")
            level = dotted.count(".") + 1 if dotted else 1
            return self._set(level, lines[0].strip(), 1)
        return 0

    def _enter(self, style: str, title: str, taken: int) -> int:
        if style not in self.styles:
            self.styles.append(style)
        return self._set(self.styles.index(style) + 1, title.strip(), taken)

    def _set(self, level: int, title: str, taken: int) -> int:
        self.path = [h for h in self.path if h[0] < level] + [(level, " ".join(title.split()))]
        return taken
