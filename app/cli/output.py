"""Printing helpers shared by the subcommands (the texts themselves come from the core's
`describe()` methods, the same in the window)."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


class ProgressLine:
    """A line on standard error redrawn in place (`line(text)`); `end()` moves past it if
    anything was drawn."""

    def __init__(self) -> None:
        self.drawn = False

    def __call__(self, text: str) -> None:
        sys.stderr.write(f"\r{text}   ")
        sys.stderr.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False
