"""A model's Info as the Models page shows it: the library's groups of facts
(`app.library.overview.info_groups`) as titled two-column tables."""

from __future__ import annotations

from html import escape
from typing import Any

from app.library.overview import info_groups


def info_html(data: dict[str, Any]) -> str:
    """`ModelLibrary.info`'s facts as HTML: one titled table per group, labels in grey."""
    parts = []
    for group in info_groups(data):
        rows = "".join(
            f"<tr><td style='color:#666;padding-right:14px'>{escape(label)}</td>"
            f"<td>{escape(value)}</td></tr>"
            for label, value in group.rows
        )
        parts.append(
            f"<h4 style='margin:8px 0 2px 0'>{escape(group.title)}</h4><table>{rows}</table>"
        )
    return "".join(parts)
