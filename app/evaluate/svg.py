"""Small inline SVG plots for the report, drawn here (no plotting library): a scatter
with labelled points and a horizontal bar chart. Text is escaped; sizes are fixed."""

from __future__ import annotations

from html import escape

W, H = 560, 300
PAD_L, PAD_R, PAD_T, PAD_B = 60, 20, 30, 45
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for exp in range(-4, 10):
        for step in (1, 2, 2.5, 5):
            top = step * 10**exp
            if top >= v:
                return float(top)
    return v


def scatter(
    title: str,
    points: list[tuple[str, float, float]],
    xlabel: str,
    ylabel: str,
    y_top: float | None = None,
) -> str:
    """Points (label, x, y) on axes from 0 (y up to `y_top` when given, e.g. 1 for a
    share); the legend names each point's colour."""
    xmax = _nice_max(max((p[1] for p in points), default=1.0) * 1.05)
    ymax = y_top or _nice_max(max((p[2] for p in points), default=1.0) * 1.05)
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    parts = [_open(title, len(points)), _axes(xlabel, ylabel, xmax, ymax)]
    for i, (label, x, y) in enumerate(points):
        cx = PAD_L + pw * x / xmax
        cy = PAD_T + ph * (1 - y / ymax)
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{colour}">'
            f"<title>{escape(label)}: {x:.3g}, {y:.3g}</title></circle>"
        )
        parts.append(
            f'<text x="{cx + 8:.1f}" y="{cy - 8:.1f}" font-size="11" fill="{colour}">{i + 1}</text>'
        )
    parts.append(_legend([p[0] for p in points]))
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, items: list[tuple[str, float]], unit: str) -> str:
    """One horizontal bar per (label, value), the value written at its end."""
    height = PAD_T + 28 * max(1, len(items)) + 20
    vmax = _nice_max(max((v for _, v in items), default=1.0))
    left, width = 230, W - 230 - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" class="plot">',
        f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    for i, (label, v) in enumerate(items):
        y = PAD_T + 28 * i
        w = width * v / vmax if vmax else 0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="11">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="18" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="11">'
            f"{v:.3g} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, legend: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 18 * legend + 10}" '
        f'role="img" aria-label="{escape(title)}" class="plot">'
        f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>"
    )


def _axes(xlabel: str, ylabel: str, xmax: float, ymax: float) -> str:
    x0, y0, x1, y1 = PAD_L, H - PAD_B, W - PAD_R, PAD_T
    out = [
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>',
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>',
    ]
    for k in range(5):
        fx = x0 + (x1 - x0) * k / 4
        fy = y0 - (y0 - y1) * k / 4
        out.append(
            f'<text x="{fx:.1f}" y="{y0 + 15}" text-anchor="middle" font-size="10">'
            f"{xmax * k / 4:.3g}</text>"
            f'<text x="{x0 - 6}" y="{fy + 3:.1f}" text-anchor="end" font-size="10">'
            f"{ymax * k / 4:.3g}</text>"
            f'<line x1="{x0}" y1="{fy:.1f}" x2="{x1}" y2="{fy:.1f}" stroke="#ddd"/>'
        )
    out.append(
        f'<text x="{(x0 + x1) / 2}" y="{H - 8}" text-anchor="middle" font-size="12">'
        f"{escape(xlabel)}</text>"
        f'<text x="14" y="{(y0 + y1) / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {(y0 + y1) / 2})">{escape(ylabel)}</text>'
    )
    return "".join(out)


def _legend(labels: list[str]) -> str:
    out = []
    for i, label in enumerate(labels):
        y = H + 14 + 18 * i
        short = label if len(label) <= 80 else label[:79] + "…"
        out.append(
            f'<circle cx="{PAD_L}" cy="{y - 4}" r="5" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{PAD_L + 10}" y="{y}" font-size="11">{i + 1}. {escape(short)}</text>'
        )
    return "".join(out)
