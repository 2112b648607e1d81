"""A PDF without an outline takes its section titles from type size: they name passages
in citations and for BM25, and cut nothing."""

from __future__ import annotations

import io
import re

import pytest

from app.rag.chunker import Chunk, Chunker
from app.rag.loaders import typeset
from app.rag.loaders.pdf import load_pdf
from tests.support.files import make_pdf

BODY = "Soil, water and light decide how well the tea bushes grow on the slope."
PAGES = [
    [("Tea growing guide", 20), BODY, ("Contents . . . . . . . . . . 1", 14), BODY,
     ("Chapter 1", 16), ("Soil and climate", 18), BODY, ("1.1 Acid soil", 14), BODY, BODY],
    [BODY, ("1.2 Rainfall", 14), BODY,
     ("A paragraph set large, as an abstract or a slide is, that runs on well past what any "
      "title would ever hold in a manual.", 14), BODY],
    [("Chapter 2 Harvest", 18), BODY, ("2.1 First flush", 14), BODY],
]  # fmt: skip


def chunks(data: bytes) -> list[Chunk]:
    return list(Chunker(target=8, maximum=14, overlap=0).chunks(load_pdf(io.BytesIO(data), "x")))


def named(data: bytes) -> dict[str, tuple[str, ...]]:
    """Each passage's first line and the section it is cited under."""
    return {c.text.split("\n")[0]: c.outline for c in chunks(data)}


def test_larger_lines_are_titles_and_a_larger_title_holds_the_smaller() -> None:
    marks = (m for s in load_pdf(io.BytesIO(make_pdf(PAGES)), "x") for m in s.outline)
    sections = {path for _, path in marks}
    top = "Tea growing guide"  # the largest: it holds every title after it
    assert sections == {
        (top,),
        (top, "Chapter 1 Soil and climate"),  # two lines, the second as large: one title
        (top, "Chapter 1 Soil and climate", "1.1 Acid soil"),
        (top, "Chapter 1 Soil and climate", "1.2 Rainfall"),
        (top, "Chapter 2 Harvest"),
        (top, "Chapter 2 Harvest", "2.1 First flush"),
    }  # not the contents line (dot leaders), not the large paragraph


def test_type_size_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_pdf(PAGES)
    with_titles = chunks(data)
    monkeypatch.setattr(typeset, "TYPESET_HEADINGS", False)
    without = chunks(data)
    assert all(c.outline == () for c in without)
    assert [(c.text, c.page, c.start, c.end, c.heading) for c in with_titles] == [
        (c.text, c.page, c.start, c.end, c.heading) for c in without
    ]


def test_an_outline_comes_before_type_size() -> None:
    data = make_pdf(PAGES, outline=[(1, "Part one", 0), (1, "Part two", 2)])
    assert set(named(data).values()) == {("Part one",), ("Part two",)}


def test_a_page_of_one_size_has_no_titles() -> None:
    assert set(named(make_pdf([[BODY] * 6, [BODY] * 6])).values()) == {()}


def test_text_scaled_by_its_matrix_is_as_large_as_it_looks() -> None:
    body = make_pdf([[BODY] * 6])
    title = b"BT /F1 1 Tf 20 0 0 20 72 790 Tm (Scaled Title) Tj ET\n"
    start = body.index(b"BT /F1 11 Tf")  # where the page's content stream begins
    length = int(re.findall(rb"/Length (\d+) >>\nstream", body[:start])[-1])
    scaled = (
        body[: body.rindex(b"/Length", 0, start)]
        + b"/Length %d >>\nstream\n" % (length + len(title))
        + title
        + body[start:]
    )
    assert {path for s in load_pdf(io.BytesIO(scaled), "x") for _, path in s.outline} == {
        ("Scaled Title",)
    }


def test_a_title_page_line_is_not_part_of_the_first_section_title() -> None:
    pages = [[("Tea growing guide", 20), ("Ada Lovelace, March 2026", 13),
              ("1 Soil and climate", 14), BODY, BODY, BODY, BODY]]  # fmt: skip
    marks = (m for s in load_pdf(io.BytesIO(make_pdf(pages)), "x") for m in s.outline)
    assert ("Tea growing guide", "1 Soil and climate") in {path for _, path in marks}


def test_a_numbered_bold_line_at_the_body_size_is_a_title_below_the_larger() -> None:
    pages = [[("1 Soil and climate", 16), BODY, ("1.1 Acid soil", 11, "bold"), BODY,
              ("1.1.1 Lime", 11, "bold"), BODY, ("1.2 Rainfall", 11, "bold"), BODY,
              ("2 Harvest", 16), BODY, BODY, BODY, BODY]]  # fmt: skip
    marks = (m for s in load_pdf(io.BytesIO(make_pdf(pages)), "x") for m in s.outline)
    assert {path for _, path in marks} == {
        ("1 Soil and climate",),
        ("1 Soil and climate", "1.1 Acid soil"),
        ("1 Soil and climate", "1.1 Acid soil", "1.1.1 Lime"),  # a deeper number is lower
        ("1 Soil and climate", "1.2 Rainfall"),
        ("2 Harvest",),
    }


def test_bold_lines_that_are_not_numbered_titles_name_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = [[("Warning", 11, "bold"), BODY, ("2.1 Harvest times 14", 11, "bold"), BODY,
              ("2.5 mm of rain a day.", 11), BODY, ("2.15", 11, "bold"), BODY, BODY]]  # fmt: skip
    assert set(named(make_pdf(pages)).values()) == {()}  # a page number; not bold; no words
    titled = [[BODY, ("3.2 Pruning", 11, "bold"), BODY, BODY, BODY, BODY]]
    assert ("3.2 Pruning",) in set(named(make_pdf(titled)).values())
    monkeypatch.setattr(typeset, "BOLD_NUMBERED", False)
    assert set(named(make_pdf(titled)).values()) == {()}
