"""Plain text read under its headings (`app.rag.loaders.plain`): the conventions a
person's `.txt` and `.rst` files use, what is not a heading, what the passages keep, and
BM25 reading the heading line with the text (`app.rag.points.bm25_text`); Markdown's
underlined (setext) headings beside its `#` ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.rag import points
from app.rag.chunker import Chunker
from app.rag.loaders import load, text
from app.rag.loaders.base import Section
from app.rag.points import bm25_text
from app.rag.represent import heading_line
from app.rag.service import Documents

TEXINFO = """\
GNU lighthouse manual

1 Introduction
**************

A lighthouse warns ships of rocks.

1.1 Lamps
=========

The lamp turns once every ten seconds.
   An indented example line.

1.1.1 Bulbs
-----------
The bulb is changed each spring.

2 Keepers
*********

The weather is logged at dawn.
"""

RST = """\
==========
Tide table
==========

Tides come twice a day.

Spring tides
------------

Spring tides follow the full moon.

Neap tides
----------

Neap tides are the weakest.
"""

NUMBERED = """\
I. Introduction

This FAQ answers questions about kettles.

1.4. How do I descale a kettle?

   Boil vinegar in it, then rinse twice.

3.  Safety Overview

   Never fill above the line.

1. Unplug the kettle

2. Empty it
"""


def sections(tmp_path: Path, body: str, name: str = "notes.txt") -> list[Section]:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    found = list(load(path))
    raw = path.read_text(encoding="utf-8")
    for s in found:  # every section's offset points at its text in the file
        assert raw[s.start : s.start + len(s.text)] == s.text
    return found


def by_text(found: list[Section], words: str) -> Section:
    return next(s for s in found if words in s.text)


def test_underlined_headings_nest_in_the_order_their_styles_appear(tmp_path: Path) -> None:
    found = sections(tmp_path, TEXINFO)
    assert found[0] == Section("GNU lighthouse manual", start=0)  # a title, not underlined
    assert by_text(found, "warns ships").heading == ("1 Introduction",)
    assert by_text(found, "ten seconds").heading == ("1 Introduction", "1.1 Lamps")
    assert "indented example" in by_text(found, "ten seconds").text
    bulb = by_text(found, "each spring")  # body right under its underline, no blank line
    assert bulb.heading == ("1 Introduction", "1.1 Lamps", "1.1.1 Bulbs")
    assert by_text(found, "weather").heading == ("2 Keepers",)
    joined = "\n".join(s.text for s in found)
    assert "***" not in joined and "===" not in joined and "---" not in joined
    assert "1.1 Lamps" not in joined  # the heading left the text for the heading path


def test_restructuredtext_overlines_are_a_style_of_their_own(tmp_path: Path) -> None:
    found = sections(tmp_path, RST, "tides.rst")
    assert by_text(found, "twice a day").heading == ("Tide table",)
    assert by_text(found, "full moon").heading == ("Tide table", "Spring tides")
    assert by_text(found, "weakest").heading == ("Tide table", "Neap tides")


def test_numbered_titles_are_headings_and_list_items_are_not(tmp_path: Path) -> None:
    found = sections(tmp_path, NUMBERED, "faq.txt")
    assert by_text(found, "about kettles").heading == ("I. Introduction",)
    descale = ("I. Introduction", "1.4. How do I descale a kettle?")
    assert by_text(found, "vinegar").heading == descale
    assert by_text(found, "fill above").heading == ("3. Safety Overview",)
    # One number and one space is a list item: it stays text, under the heading before it.
    assert by_text(found, "1. Unplug the kettle").heading == ("3. Safety Overview",)
    assert by_text(found, "2. Empty it").heading == ("3. Safety Overview",)


ASCIIDOC = """\
= Lighthouse Manual

[preface]
== Introduction

The lamp is lit at dusk.

[[keepers]]
== Keepers

=== Winter rota

Two keepers stay on the rock.
"""

DOCBOOK = """\
Chapter 1. The Lamp

The lens turns twice a minute.

1.1. Cleaning

Wipe the prisms with a dry cloth.

Appendix A. Signals

Three flashes mean danger.
"""


def test_asciidoc_titles_under_their_anchors_are_headings(tmp_path: Path) -> None:
    found = sections(tmp_path, ASCIIDOC, "manual.adoc")
    top = "Lighthouse Manual"
    assert by_text(found, "dusk").heading == (top, "Introduction")
    assert by_text(found, "Two keepers").heading == (top, "Keepers", "Winter rota")
    assert not any("[[" in s.text or "==" in s.text for s in found)


def test_docbook_chapter_lines_are_headings(tmp_path: Path) -> None:
    found = sections(tmp_path, DOCBOOK)
    assert by_text(found, "twice a minute").heading == ("Chapter 1. The Lamp",)
    assert by_text(found, "prisms").heading == ("Chapter 1. The Lamp", "1.1. Cleaning")
    assert by_text(found, "Three flashes").heading == ("Appendix A. Signals",)


@pytest.mark.parametrize(
    "body",
    [
        "A long title that has only a short rule under it\n---\n",  # under half its length
        "The first line of a paragraph\nand its second line\n--------------------\n",
        "1.5 litres of water boils in four minutes, then the kettle clicks off, and the\n"
        "light goes out.\n",  # a numbered line that is a sentence of a longer paragraph
        "2.5 GB of free space is needed.\n",  # a sentence that starts with a decimal number
        "The totals agree:\n== 42 in both columns\n",  # "==" inside a paragraph
        "Chapter 3. of the report was late, and\nnobody read it.\n",  # not a line alone
        "----\n\n====\n",  # rules alone: separators, not headings
        "2026\n====\n",  # a title must hold a letter
        # AsciiDoc's fenced code: a one-line block, and a block's last line and its fence
        f"{'-' * 48}\n$ git log --no-merges --diff-filter=A\n{'-' * 48}\n",
        f"{'-' * 48}\ngit switch -c new\n{'-' * 48}\n",
        f"HEAD is now at 427abfa Linux v2.6.17\n{'-' * 48}\n",
    ],
)
def test_what_is_not_a_heading(tmp_path: Path, body: str) -> None:
    found = sections(tmp_path, body)
    assert all(s.heading == () for s in found)
    if body == "----\n\n====\n":
        assert found == []  # a paragraph of rules alone is left out


def test_passages_stop_at_a_plain_heading_and_carry_it(tmp_path: Path) -> None:
    (tmp_path / "manual.txt").write_text(TEXINFO, encoding="utf-8")
    chunks = list(Chunker().chunks(load(tmp_path / "manual.txt")))
    lamps = next(c for c in chunks if "ten seconds" in c.text)
    assert "each spring" not in lamps.text and "warns ships" not in lamps.text
    assert heading_line(lamps) == "1 Introduction > 1.1 Lamps\n"
    bulbs = next(c for c in chunks if "each spring" in c.text)
    assert heading_line(bulbs) == "1.1 Lamps > 1.1.1 Bulbs\n"


def test_the_switch_off_reads_paragraphs_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text, "PLAIN_HEADINGS", False)
    found = sections(tmp_path, TEXINFO)
    assert all(s.heading == () for s in found)
    assert any(s.text == "1.1 Lamps\n=========" for s in found)


def test_bm25_reads_the_heading_line_the_dense_side_reads(
    documents: Documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bm25_text("body", {"heading": ["Manual", "Lamps", "Bulbs"]}) == "Lamps > Bulbs\nbody"
    assert bm25_text("body", {"heading": []}) == "body"
    with monkeypatch.context() as switched:  # the bench's switch: the text alone, as before
        switched.setattr(points, "BM25_HEADINGS", False)
        assert bm25_text("body", {"heading": ["Manual", "Lamps"]}) == "body"
    folder = tmp_path / "manuals"
    folder.mkdir()
    (folder / "manual.txt").write_text(TEXINFO, encoding="utf-8")
    (folder / "other.txt").write_text("Ships carry cargo across the sea.\n", encoding="utf-8")
    documents.add([folder], "m")
    # "Keepers" is the title of the passage about the weather, and not in its text.
    hit = documents.search("keepers", "m", k=1, mode="bm25")[0]
    assert hit.text == "The weather is logged at dawn." and hit.heading == "2 Keepers"


MARKDOWN = """\
---
title: Harbour notes
---

Harbour
=======

The harbour opens at dawn.

Moorings
--------
Each mooring takes one boat.

    Code
    ----

# Fees

A night costs ten pounds.

---

Not a heading, after a blank line: a rule.
"""


def test_markdown_setext_headings_beside_atx_ones(tmp_path: Path) -> None:
    found = sections(tmp_path, MARKDOWN, "harbour.md")
    assert by_text(found, "title: Harbour notes").heading == ()  # front matter, not a title
    assert by_text(found, "opens at dawn").heading == ("Harbour",)
    assert by_text(found, "one boat").heading == ("Harbour", "Moorings")
    code = by_text(found, "Code")  # indented: code, not a title
    assert code.heading == ("Harbour", "Moorings") and "----" in code.text
    assert by_text(found, "ten pounds").heading == ("Fees",)
    assert by_text(found, "a rule").heading == ("Fees",)
    assert not any(s.text.startswith(("Harbour\n", "Moorings\n")) for s in found)


def test_an_indented_line_over_a_fence_is_code_not_a_title(tmp_path: Path) -> None:
    body = (
        "Commit it:\n\n"
        "    $ git commit -s\n"
        "    Signed-off-by: Ada Lovelace <ada@example.org>\n"
        "------------------------------------------------\n\n"
        "The sign-off says who vouches for it.\n"
    )
    assert all(s.heading == () for s in sections(tmp_path, body, "manual.adoc"))
