"""The person's own terms (names, project code words: whole words, any case) and their
own regular expressions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from app.privacy.errors import InvalidEndpointError
from app.privacy.recognize.scan import Scan
from app.privacy.recognize.spans import Span


class TermsRecognizer:
    """Finds the person's terms (kind TERM) and matches of their patterns (kind CUSTOM)."""

    kinds = frozenset({"TERM", "CUSTOM"})

    def __init__(self, terms: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        words = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        # No look-behind in front: a pattern that starts with the terms' first letters is
        # searched for quickly; the character before is checked for each hit instead.
        self._terms = (
            re.compile(r"(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
            if words
            else None
        )
        compiled = []
        for p in patterns:
            try:
                compiled.append(re.compile(p))
            except re.error as exc:
                raise InvalidEndpointError(
                    f"The redaction pattern {p!r} is not a valid regular expression ({exc}); "
                    "fix it in the privacy settings."
                ) from exc
        self._patterns = compiled

    @property
    def empty(self) -> bool:
        return self._terms is None and not self._patterns

    def find(self, scan: Scan) -> Iterator[Span]:
        text = scan.text
        if self._terms is not None:
            for m in self._terms.finditer(text):
                start = m.start()
                if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
                    yield Span(start, m.end(), "TERM")
        for pattern in self._patterns:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    yield Span(m.start(), m.end(), "CUSTOM")
