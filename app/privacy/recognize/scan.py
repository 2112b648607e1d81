"""`Scan`: a text and the runs of digits in it, found once and shared by the recognizers of
numbers (phone, card, IBAN, IPv4).

Regular expressions in Python pay for every position where a match may start. Each
recognizer scanning the text with its own pattern made redaction four times slower than
one pass (measured: 0.5 MB/s against 1.7 MB/s for the old single pattern, same run); one
pass over digit runs (`\\d` is a quick first-character test in the regex engine) and a
check per run in Python keeps the whole at or above the old speed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# A run: digits and the separators people write between them, from a digit to a digit.
_RUN = re.compile(r"\d(?:[ \u00a0\t\-–./()]*\d)*")


@dataclass
class Scan:
    """The text being redacted; `runs` are (start, end) of its digit runs, each from a
    digit to a digit."""

    text: str

    @functools.cached_property
    def runs(self) -> list[tuple[int, int]]:
        return [m.span() for m in _RUN.finditer(self.text)]
