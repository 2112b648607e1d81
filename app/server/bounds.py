"""Integer bounds as grammar rules, which llama-cpp-python's schema converter leaves out.

Its converter turns `{"type": "integer", "minimum": 0, "maximum": 120}` into "any integer"
(a TODO in its source); SmolLM2 then writes ages like 1732980467521244. `bounded_gbnf`
writes the range itself as alternatives of digit patterns (0–99 | 100–109 | 110–119 |
120), the way range-to-regex generators do, so the grammar only lets valid numbers through.
"""

from __future__ import annotations

import math
from typing import Any

# An open side is bounded at 15 digits: every such integer is exact in a double.
OPEN = 10**15 - 1


def integer_bounds(schema: dict[str, Any]) -> tuple[int, int] | None:
    """The inclusive [low, high] of an integer schema with a bound, else None."""
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    if schema.get("type") != "integer" or not any(k in schema for k in keys):
        return None
    low, high = -OPEN, OPEN
    if isinstance(schema.get("minimum"), int | float):
        low = max(low, math.ceil(schema["minimum"]))
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        low = max(low, math.floor(schema["exclusiveMinimum"]) + 1)
    if isinstance(schema.get("maximum"), int | float):
        high = min(high, math.floor(schema["maximum"]))
    if isinstance(schema.get("exclusiveMaximum"), int | float):
        high = min(high, math.ceil(schema["exclusiveMaximum"]) - 1)
    return low, high


def bounded_gbnf(low: int, high: int) -> str:
    """A GBNF expression matching exactly the integers from `low` to `high` (JSON form:
    no leading zeros, no "-0")."""
    if low > high:
        raise ValueError(f"no integer lies between {low} and {high}")
    parts = []
    if low < 0:
        parts += [f'"-" ({alt})' for alt in [" | ".join(_alternatives(max(1, -high), -low))]]
    if high >= 0:
        parts += _alternatives(max(0, low), high)
    return " | ".join(f"({p})" for p in parts)


def _alternatives(low: int, high: int) -> list[str]:
    """Digit patterns covering [low, high], 0 <= low <= high."""
    blocks: list[tuple[str, int, int, int]] = []  # (prefix, first digit, last digit, free)
    for digits in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(high, 10**digits - 1)
        while lo <= hi:
            free = 0
            while lo % 10 ** (free + 1) == 0 and lo + 10 ** (free + 1) - 1 <= hi:
                free += 1
            fixed = str(lo)[: len(str(lo)) - free]
            # A block is its fixed digits then `free` digits [0-9]; -1: no fixed digit at all.
            block = (
                (fixed[:-1], int(fixed[-1]), int(fixed[-1]), free) if fixed else ("", -1, -1, free)
            )
            last = blocks[-1] if blocks else None
            if (
                last is not None
                and block[0] == last[0]
                and block[3] == last[3]
                and block[1] == last[2] + 1
                and block[1] >= 0
            ):
                blocks[-1] = (last[0], last[1], block[2], last[3])
            else:
                blocks.append(block)
            lo += 10**free
    out = []
    for prefix, first, last_digit, free in blocks:
        items = [f'"{prefix}"'] if prefix else []
        if first >= 0:
            items.append(f"[{first}-{last_digit}]" if first != last_digit else f'"{first}"')
        items += ["[0-9]"] * free
        out.append(" ".join(items))
    return out
