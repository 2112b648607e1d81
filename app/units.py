"""Sizes and durations as people read them, the same in the window and the terminal."""

from __future__ import annotations


def human_size(n: float) -> str:
    """'512 B', '1.5 MB', '98.4 MB', '3.2 GB' (decimal units, as disks are sold)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover - the loop always returns


def duration(seconds: float) -> str:
    """'45 s', '3 min 07 s', '2 h 05 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
