"""Citation markers normalised to the source list's numbers, unknown ones flagged, and
links sorted by whether a source contains them (`app.markers`)."""

from __future__ import annotations

from app.citation import Citation
from app.markers import check_answer

SOURCES = [
    Citation("/docs/manual.pdf", page=3, page_end=4, text="Install with apt.", n=1),
    Citation(
        "/docs/manual.pdf",
        page=9,
        text="See https://example.org/guide/install for details.",
        n=2,
    ),
    Citation("/docs/notes.md", heading="Setup", text="Use www.debian.org/doc please.", n=3),
]


def test_plain_numbers_stay_and_lists_are_tidied() -> None:
    checked = check_answer("Install it [1]. Then read [2,3] and [Source 1].", SOURCES)
    assert checked.text == "Install it [1]. Then read [2, 3] and [1]."
    assert checked.cited == [1, 2, 3]
    assert checked.unknown == []


def test_the_copied_header_becomes_the_number_its_place_names() -> None:
    # The model numbered it 1 but named the place of source 2: the place decides.
    checked = check_answer("Read the guide [1] (manual.pdf p. 9).", SOURCES)
    assert checked.text == "Read the guide [2]."
    assert checked.markers[0].written == "[1] (manual.pdf p. 9)"
    assert check_answer("Install [1] (manual.pdf p. 3–4).", SOURCES).text == "Install [1]."
    assert check_answer("Setup [3] (notes.md › Setup).", SOURCES).text == "Setup [3]."


def test_unknown_markers_are_flagged() -> None:
    checked = check_answer("As shown [7] and [1, 9] and [2] (manual.pdf p. 40).", SOURCES)
    assert checked.text == "As shown [7?] and [1, 9?] and [2?]."
    assert checked.unknown == ["[7]", "[1, 9]", "[2] (manual.pdf p. 40)"]
    assert checked.cited == [1]


def test_other_forms_of_markers() -> None:
    assert check_answer("A【2】 b[^3] c [1-3].", SOURCES).text == "A[2] b[3] c [1, 2, 3]."
    assert check_answer("Twice[1][2].", SOURCES).text == "Twice[1][2]."
    assert check_answer("It says so (Source 2).", SOURCES).text == "It says so [2]."
    assert check_answer("Install [1](manual.pdf p. 3).", SOURCES).text == "Install [1]."


def test_parentheses_that_are_not_places_stay_text() -> None:
    checked = check_answer("Done [1] (see above).", SOURCES)
    assert checked.text == "Done [1] (see above)."


def test_code_and_indexing_are_left_alone() -> None:
    text = "Use `a[7]` or:\n\n```python\nx = rows[9]\n```\n\nand b[5] [2]"
    checked = check_answer(text, SOURCES)
    assert checked.text == text
    assert [m.text for m in checked.markers] == ["[2]"]


def test_a_reply_without_sources_is_untouched() -> None:
    checked = check_answer("Lists [1] and [2] of mine.", [])
    assert checked.text == "Lists [1] and [2] of mine."
    assert checked.markers == ()


def test_links_only_from_sources() -> None:
    text = (
        "See https://example.org/guide/install, [the docs](https://made.up/page) and "
        "http://www.debian.org/doc/ or https://evil.example/x."
    )
    checked = check_answer(text, SOURCES)
    by_url = {link.url: link.from_source for link in checked.links}
    assert by_url == {
        "https://example.org/guide/install": True,
        "https://made.up/page": False,
        "http://www.debian.org/doc/": True,
        "https://evil.example/x": False,
    }
    # A Markdown link to an address no source has is flattened so the address shows.
    assert "the docs (https://made.up/page)" in checked.text
    assert checked.link_allowed("https://example.org/guide/install")
    assert not checked.link_allowed("https://made.up/page")


def test_as_dict_carries_the_markers() -> None:
    out = check_answer("Install [1] (manual.pdf p. 9) and [8].", SOURCES).as_dict()
    assert out["cited"] == [2]
    assert out["unknown_markers"] == ["[8]"]
    assert out["markers"][0] == {
        "written": "[1] (manual.pdf p. 9)",
        "text": "[2]",
        "sources": [2],
        "unknown": [],
    }
