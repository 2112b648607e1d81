"""An answer checked against its sources: the model's inline citation markers rewritten to
the numbers of the source list under the reply, and the links it wrote sorted into those a
cited source contains and those it made up.

A model given numbered sources (`app.prompt`) cites them in many ways: "[1]", "[1, 3]",
"[Source 2]", "【2】", "[^2]", or the source's header copied whole, "[1] (manual.pdf p. 9)",
where the number and the place may even disagree. `check_answer` turns each marker into
"[n]" with n a number of the source list: the place, when it names a source, decides;
a marker that matches no source is kept, flagged "[7?]", so a reader sees it at once.
Markers inside code (fenced blocks, `inline`) are left alone.

A link is "from a source" when its address (scheme and "www." aside, whitespace ignored)
is in the text of one of the reply's sources; the faces make only those clickable, and a
Markdown link to any other address is flattened to "label (address)".

Plain Python: the window, `carrel ask --json` and `carrel conversation … --json` share it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.citation import Citation

# A bracketed marker: "[1]", "[1, 3]", "[1-3]", "[Source 2]", "[^2]", "【2】", maybe
# followed by the place the model copied from the source's header: " (manual.pdf p. 9)".
# One right after a word ("apt[1]") counts only when it names known sources, so code
# outside backticks ("rows[9]") is not flagged.
_ITEM = r"(?:(?:sources?|src|ref|passage)\s*)?\^?\d{1,3}(?:\s*[-–]\s*\d{1,3})?"
_LIST = rf"{_ITEM}(?:\s*(?:,|;|and|&)\s*{_ITEM})*"
_PLACE = r"\s?\((?P<place>[^()\n]{1,200})\)"
MARKER = re.compile(
    rf"(?<!\\)(?:\[(?P<b>{_LIST})\]|【(?P<j>{_LIST})】)(?!\()(?:{_PLACE})?"
    rf"|(?<!\\)\[(?P<bl>{_LIST})\]\((?P<lplace>[^()\n]{{1,200}})\)"
    rf"|\((?P<p>(?:sources?|passage)\s*{_LIST})\)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?")
_PAGE = re.compile(r"\b(?:p{1,2}\.?|pages?)\s*(\d{1,5})", re.IGNORECASE)
_CODE = re.compile(r"^(```|~~~)[^\n]*\n.*?(?:^\1[^\n]*$|\Z)|`[^`\n]+`", re.DOTALL | re.MULTILINE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]\"'`]+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[(?P<label>[^\]\n]{1,300})\]\((?P<url>(?:https?://|www\.)[^\s()]+)\)")
# A range wider than this is not a citation ("[1-300]").
MAX_RANGE = 20


@dataclass(frozen=True)
class Marker:
    """One citation marker as the model wrote it (`written`, at `start`..`end` of the
    reply as written), the source numbers it stands for, what matched no source
    (`unknown`: "7"), and how it reads now (`text`: "[1, 3]", "[7?]")."""

    written: str
    start: int
    end: int
    sources: tuple[int, ...]
    unknown: tuple[str, ...]
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "text": self.text,
            "sources": list(self.sources),
            "unknown": list(self.unknown),
        }


@dataclass(frozen=True)
class Link:
    """An address in a reply and whether one of its sources contains it."""

    url: str
    from_source: bool

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "from_source": self.from_source}


@dataclass(frozen=True)
class CheckedAnswer:
    """A reply's text with its markers normalised (`text`), the markers, and its links."""

    text: str
    markers: tuple[Marker, ...] = ()
    links: tuple[Link, ...] = ()
    allowed: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def cited(self) -> list[int]:
        """The source numbers the reply cites, in order."""
        return sorted({n for m in self.markers for n in m.sources})

    @property
    def unknown(self) -> list[str]:
        """The markers that matched no source, as written."""
        return [m.written for m in self.markers if m.unknown]

    def link_allowed(self, url: str) -> bool:
        """Whether `url` (as a face found it in the rendered reply) is from a source."""
        return _url_key(url) in self.allowed

    def as_dict(self) -> dict[str, Any]:
        return {
            "markers": [m.as_dict() for m in self.markers],
            "cited": self.cited,
            "unknown_markers": self.unknown,
            "links": [link.as_dict() for link in self.links],
        }


def check_answer(text: str, sources: Sequence[Citation]) -> CheckedAnswer:
    """`text` with its citation markers as the numbers of `sources` (see the module) and
    its links checked against them. With no sources the text is returned as it is: a
    reply that was given none has nothing to cite."""
    if not sources:
        return CheckedAnswer(text)
    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    numbers = {c.n for c in sources if c.n > 0} or set(range(1, len(sources) + 1))
    out: list[str] = []
    markers: list[Marker] = []
    pos = 0
    for found in MARKER.finditer(text):
        if _inside(found.start(), code):
            continue
        body = found.group("b") or found.group("j") or found.group("bl") or found.group("p")
        place = found.group("place") or found.group("lplace") or ""
        resolved = _resolve(body, place, sources, numbers)
        end = found.end()
        if resolved is None:  # "[1] (see above)": the marker alone, the rest is text
            resolved = _resolve(body, "", sources, numbers)
            assert resolved is not None
            group = next(g for g in ("b", "j", "bl") if found.group(g))
            end = found.end(group) + 1
        sources_of, unknown = resolved
        before = text[found.start() - 1] if found.start() else " "
        if (before.isalnum() or before == "_") and (unknown or not sources_of):
            continue
        shown = _marker_text(sources_of, unknown)
        markers.append(
            Marker(text[found.start() : end], found.start(), end, sources_of, unknown, shown)
        )
        out.append(text[pos : found.start()])
        out.append(shown)
        pos = end
    out.append(text[pos:])
    normalised = "".join(out)
    links, allowed = _links(normalised, sources)
    normalised = _flatten_links(normalised, allowed)
    return CheckedAnswer(normalised, tuple(markers), links, allowed)


def _inside(at: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= at < b for a, b in spans)


def _resolve(
    body: str, place: str, sources: Sequence[Citation], numbers: set[int]
) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """(source numbers, unknown items) of a marker; None when `place` is not a place at
    all (then the caller keeps the parenthesis as text)."""
    wanted: list[int] = []
    for m in _NUMBER.finditer(body):
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        wanted += list(range(a, b + 1)) if 0 <= b - a <= MAX_RANGE else [a]
    if place:
        named = _named_by(place, sources)
        if named is None:
            return None
        if len(wanted) == 1:  # the header copied whole: "[n] (where)"
            n = wanted[0]
            if n in named or (not named and n in numbers and not _PAGE.search(place)):
                return (n,), ()
            if named:
                return (named[0],), ()
            return (), (str(n),)
    known = tuple(dict.fromkeys(n for n in wanted if n in numbers))
    unknown = tuple(dict.fromkeys(str(n) for n in wanted if n not in numbers))
    return known, unknown


def _named_by(place: str, sources: Sequence[Citation]) -> list[int] | None:
    """The numbers of the sources `place` ("manual.pdf p. 9", "… p. 9") points at; an
    empty list when it names a file or page that no source has; None when it names no
    file and no page (so it is not a place)."""
    lowered = " ".join(place.lower().split())
    files = [c for c in sources if any(name in lowered for name in _names(c.source))]
    page = _PAGE.search(place)
    if not files and page is None:
        return None
    candidates = files or list(sources)
    if page is not None:
        p = int(page.group(1))
        candidates = [c for c in candidates if c.page is not None and _covers(c, p)]
    return [c.n for c in candidates]


@lru_cache(maxsize=256)
def _names(source: str) -> tuple[str, ...]:
    """How a place may name a source's file: its name, and its stem if not too short."""
    path = Path(source)
    stem = path.stem.lower()
    return (path.name.lower(), stem) if len(stem) >= 4 else (path.name.lower(),)


def _covers(c: Citation, page: int) -> bool:
    assert c.page is not None
    return c.page <= page <= (c.page_end or c.page)


def _marker_text(sources: tuple[int, ...], unknown: tuple[str, ...]) -> str:
    items = [str(n) for n in sources] + [f"{u}?" for u in unknown]
    return f"[{', '.join(items)}]" if items else "[?]"


def _url_key(url: str) -> str:
    """An address as compared with a source's text: no scheme, no "www.", no trailing
    slash or punctuation, no whitespace, lower case."""
    key = "".join(url.split()).lower()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key)
    return key.rstrip("/.,;:!?")


def _links(text: str, sources: Sequence[Citation]) -> tuple[tuple[Link, ...], frozenset[str]]:
    found = [m.group(0).rstrip(".,;:!?") for m in URL.finditer(text)]
    if not found:
        return (), frozenset()
    haystack = "".join(" ".join(c.text for c in sources).split()).lower()
    links: dict[str, Link] = {}
    allowed: set[str] = set()
    for url in found:
        key = _url_key(url)
        ok = bool(key) and key in haystack
        links.setdefault(url, Link(url, ok))
        if ok:
            allowed.add(key)
    return tuple(links.values()), frozenset(allowed)


def _flatten_links(text: str, allowed: frozenset[str]) -> str:
    """Markdown links to addresses no source contains, as "label (address)"."""

    def flat(m: re.Match[str]) -> str:
        if _url_key(m.group("url")) in allowed:
            return m.group(0)
        label, url = m.group("label"), m.group("url")
        return url if label.strip() == url else f"{label} ({url})"

    return _MD_LINK.sub(flat, text)
