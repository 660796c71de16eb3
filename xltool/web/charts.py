"""Charts of the 汇总 page as inline SVG, drawn on the server: no script, no library, prints as
it shows. One horizontal bar per item (agency names and outcome labels are long: they read
best on the left of their bar)."""

from __future__ import annotations

from html import escape

from xltool.core.numbers import show
from xltool.pipeline.workspace.report import Series

WIDTH = 760
LABEL_W = 250  # the names' column
ROW_H = 24
BAR_H = 16
TOP = 8
VALUE_W = 60  # room for the number after the longest bar
COLOURS = ("#2f6fb0", "#4e9a5b")


def _ellipsis(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def bar_chart(series: Series, n: int = 0) -> str:
    """``series`` as one SVG element; ``n`` picks the colour."""
    items = series.items
    height = TOP * 2 + ROW_H * max(1, len(items))
    top = max((v for _l, v in items), default=0.0) or 1.0
    span = WIDTH - LABEL_W - VALUE_W - 10
    colour = COLOURS[n % len(COLOURS)]
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
           f'height="{height}" role="img" aria-label="{escape(series.title)}">',
           f"<title>{escape(series.title)}</title>",
           f'<line x1="{LABEL_W}" y1="{TOP - 4}" x2="{LABEL_W}" y2="{height - TOP + 4}" stroke="#888"/>']
    for i, (label, value) in enumerate(items):
        y = TOP + i * ROW_H
        w = round(span * value / top, 1) if value > 0 else 0
        mid = y + ROW_H / 2
        out.append(f'<text x="{LABEL_W - 6}" y="{mid:.1f}" text-anchor="end" dominant-baseline="middle" '
                   f'font-size="13">{escape(_ellipsis(label, 19))}<title>{escape(label)}</title></text>')
        out.append(f'<rect x="{LABEL_W}" y="{y + (ROW_H - BAR_H) / 2:.1f}" width="{w}" height="{BAR_H}" fill="{colour}" '
                   f'data-label="{escape(label)}" data-value="{show(value)}"/>')
        out.append(f'<text x="{LABEL_W + w + 5}" y="{mid:.1f}" dominant-baseline="middle" font-size="12">{show(value)}</text>')
    if not items:
        out.append(f'<text x="{LABEL_W + 10}" y="{TOP + ROW_H / 2}" dominant-baseline="middle" font-size="13">没有数据</text>')
    out.append("</svg>")
    return "".join(out)
