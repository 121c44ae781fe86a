"""Small server-rendered SVG bar charts for the moderator dashboard (no JS, no assets)."""

from __future__ import annotations

from datetime import date
from html import escape

from core.i18n import ngettext


def bar_chart(title: str, days: list[date], values: list[int], *, width: int = 600) -> str:
    """An accessible SVG: a <title>/<desc> for screen readers, one bar a day."""
    height, pad, top = 140, 24, 10
    peak = max(values) if values and max(values) > 0 else 1
    step = (width - 2 * pad) / max(len(values), 1)
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        h = (height - pad - top) * value / peak
        x = pad + index * step
        y = height - pad - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}">'
            f"<title>{day.isoformat()}: {value}</title></rect>"
        )
    total = sum(values)
    first = days[0].strftime("%d %b") if days else ""
    last = days[-1].strftime("%d %b") if days else ""
    summary = ngettext(
        "%(total)d in %(num)d day, at most %(most)d in a day",
        "%(total)d in %(num)d days, at most %(most)d in a day",
        len(days),
    ) % {"total": total, "num": len(days), "most": max(values, default=0)}
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="t-{_id(title)} d-{_id(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="t-{_id(title)}">{escape(title)}</title>'
        f'<desc id="d-{_id(title)}">{escape(summary)}</desc>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'class="axis"/>'
        + "".join(bars)
        + f'<text x="{pad}" y="{height - 6}" class="label">{first}</text>'
        f'<text x="{width - pad}" y="{height - 6}" class="label" text-anchor="end">{last}</text>'
        f'<text x="{pad}" y="{top + 2}" class="label">{peak}</text>'
        "</svg>"
    )


def _id(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower())
