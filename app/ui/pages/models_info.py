"""A model's Info as the Models page shows it: the library's groups of facts
(`app.library.overview.info_groups`) as one two-column table with a title row per group,
so the values line up from group to group."""

from __future__ import annotations

from html import escape
from typing import Any

from app.library.overview import info_groups


def info_html(data: dict[str, Any]) -> str:
    """`ModelLibrary.info`'s facts as HTML: titled groups, labels in grey."""
    rows = []
    for n, group in enumerate(info_groups(data)):
        gap = "padding-top:8px;" if n else ""
        rows.append(f"<tr><td colspan='2' style='{gap}'><b>{escape(group.title)}</b></td></tr>")
        rows += [
            f"<tr><td style='color:#666;padding-right:14px;padding-left:8px'>{escape(label)}"
            f"</td><td>{escape(value)}</td></tr>"
            for label, value in group.rows
        ]
    return f"<table>{''.join(rows)}</table>"
