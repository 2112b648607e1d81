"""HTML's page chrome left unread when `markup.PAGE_CHROME` is on (issue 16's
twenty-second round; not shipped, the bench's `--page-chrome` runs it): ARIA landmarks
that are not content, Sphinx's sidebar, and permalink marks beside titles and
definitions, as Sphinx's themes write them; a link that is a title's own text is kept.
Citations leave the permalink marks out whichever way a page was read."""

from __future__ import annotations

import io

import pytest

from app.rag import points
from app.rag.loaders import markup
from app.rag.loaders.base import Section

# A page as Sphinx's basic theme writes it (trimmed): a related bar and a sidebar holding
# the page's own contents, a body with permalinks, a footer marked only by its role.
SPHINX_PAGE = """<html><body>
<div class="related" role="navigation" aria-label="related navigation">
  <h3>Navigation</h3><ul><li><a href="genindex.html">index</a></li></ul>
</div>
<div class="body" role="main">
  <section id="faq">
  <h1>Frequently Asked Questions<a class="headerlink" href="#faq" title="Permalink">¶</a></h1>
  <section id="speed">
  <h2>How fast is it?<a class="headerlink" href="#speed">\uf0c1</a></h2>
  <p>It compiles templates to bytecode and caches them by name.</p>
  <dl><dt id="api.render">render(context)<a class="headerlink" href="#api.render">¶</a></dt>
  <dd><p>Renders the template with the context given.</p></dd></dl>
  </section></section>
</div>
<div class="sphinxsidebar">
  <h3>Contents</h3><ul><li><a href="#speed">How fast is it?</a></li></ul>
  <div role="search"><h3>Quick search</h3></div>
</div>
<div class="footer" role="contentinfo">Created using Sphinx.</div>
</body></html>"""


def sections(html: str) -> list[Section]:
    return list(markup.load_html(io.BytesIO(html.encode()), "page.html"))


@pytest.fixture
def chrome_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markup, "PAGE_CHROME", True)


def test_a_sphinx_page_reads_as_its_body_alone(chrome_skipped: None) -> None:
    read = sections(SPHINX_PAGE)
    assert [s.text for s in read] == [
        "It compiles templates to bytecode and caches them by name.",
        "render(context)",
        "Renders the template with the context given.",
    ]
    assert {s.heading for s in read} == {("Frequently Asked Questions", "How fast is it?")}


def test_as_shipped_the_chrome_is_read_as_before() -> None:
    assert markup.PAGE_CHROME is False
    read = sections(SPHINX_PAGE)
    text = " ".join(s.text for s in read)
    assert "index" in text and "Created using Sphinx." in text
    assert ("Frequently Asked Questions¶", "How fast is it?\uf0c1") in {s.heading for s in read}
    assert read[-1].heading[-1] == "Quick search"  # the sidebar's titles took over


@pytest.mark.parametrize(
    "title",
    [
        '<h2><a class="toc-backref" href="#id3">Storage <em>limits</em></a></h2>',
        '<a href="#limits"><h2>Storage limits</h2></a>',  # a link around the title
        '<h2><a href="other.html#x">Storage limits</a></h2>',  # not to the same page
    ],
)
def test_a_link_that_is_the_title_keeps_it(title: str, chrome_skipped: None) -> None:
    read = sections(f"<body>{title}<p>Up to 2 TiB.</p></body>")
    assert read[-1].heading == ("Storage limits",)
    assert read[-1].text == "Up to 2 TiB."


def test_a_same_page_link_with_words_stays_in_the_text(chrome_skipped: None) -> None:
    read = sections('<p>See <a href="#limits">the limits</a> below, and <a href="#x">#</a>.</p>')
    assert [s.text for s in read] == ["See the limits below, and ."]


def test_landmarks_are_told_by_their_first_role_and_any_case(chrome_skipped: None) -> None:
    page = (
        '<div role="Navigation doc-toc"><p>menu</p></div>'
        '<div role="main navigation"><p>kept</p></div>'
        '<aside class="note"><p>an aside was always skipped</p></aside>'
        '<div class="sphinxsidebarwrapper"><p>only the sidebar itself is named</p></div>'
    )
    assert [s.text for s in sections(page)] == ["kept", "only the sidebar itself is named"]


def test_citations_show_titles_without_their_permalink_marks() -> None:
    heading = {s.heading for s in sections(SPHINX_PAGE)} - {("Navigation",)}
    shown = {points.shown_heading({"heading": list(h)}) for h in heading}
    assert "Frequently Asked Questions › How fast is it?" in shown
    assert "¶" not in " ".join(shown) and "\uf0c1" not in " ".join(shown)
    # a title that is only a mark, or one that ends in "#" or ")", is shown as it is
    assert points.shown_heading({"heading": ["¶", "C#", "Options (2)"]}) == "¶ › C# › Options (2)"
