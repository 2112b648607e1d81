"""An HTML table read a row at a time when `markup.TABLE_ROWS` is on (issue 16's
twenty-second round; not shipped, the bench's `--table-rows` runs it): cells joined by
" | ", the paragraphs Sphinx wraps each cell in read as spaces, a table inside a cell read
into it, and rows and cells whose end tags were left out ending where the next begins."""

from __future__ import annotations

import io

import pytest

from app.rag.loaders import markup


def texts(html: str) -> list[str]:
    return [s.text for s in markup.load_html(io.BytesIO(html.encode()), "page.html")]


# A zone file example as Sphinx writes a table: each cell's text in a paragraph.
SPHINX_TABLE = """<body><h2>MX records</h2><p>For example:</p>
<table class="docutils align-default"><tbody>
<tr class="row-odd"><td><p>example.com.</p></td><td><p>IN</p></td><td><p>MX</p></td>
<td><p>10</p></td><td><p>mail.example.com.</p></td></tr>
<tr class="row-even"><td><p>mail.example.com.</p></td><td><p>IN</p></td><td><p>A</p></td>
<td></td><td><p>10.0.0.1</p></td></tr>
</tbody></table><p>Mail is delivered to the first that answers.</p></body>"""


@pytest.fixture
def rows_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markup, "TABLE_ROWS", True)


def test_a_row_is_one_line_of_its_cells(rows_on: None) -> None:
    assert texts(SPHINX_TABLE) == [
        "For example:",
        "example.com. | IN | MX | 10 | mail.example.com.",
        "mail.example.com. | IN | A | | 10.0.0.1",
        "Mail is delivered to the first that answers.",
    ]


def test_as_shipped_each_cell_is_a_paragraph() -> None:
    assert markup.TABLE_ROWS is False
    assert texts(SPHINX_TABLE)[1:6] == ["example.com.", "IN", "MX", "10", "mail.example.com."]


def test_blocks_and_a_table_inside_a_cell_are_read_into_it(rows_on: None) -> None:
    page = (
        "<table><tr><th>Task</th><th>Tool</th></tr>"
        "<tr><td><p>Report an event</p><ul><li>in a script</li></ul></td>"
        "<td>print()<br>or <table><tr><td>logging.info()</td><td>debug()</td></tr></table>"
        "</td></tr></table><p>After.</p>"
    )
    assert texts(page) == [
        "Task | Tool",
        "Report an event in a script | print() or logging.info() debug()",
        "After.",
    ]


def test_cells_and_rows_without_end_tags_end_where_the_next_begins(rows_on: None) -> None:
    page = "<table><tr><td>one<td>two<tr><td>three<td>four</table><p>After.</p>"
    assert texts(page) == ["one | two", "three | four", "After."]


def test_a_title_inside_a_cell_still_ends_the_paragraph(rows_on: None) -> None:
    page = "<table><tr><td>before</td><td><h3>Options</h3>after</td></tr></table>"
    read = list(markup.load_html(io.BytesIO(page.encode()), "page.html"))
    assert [(s.heading, s.text) for s in read] == [((), "before |"), (("Options",), "after")]
