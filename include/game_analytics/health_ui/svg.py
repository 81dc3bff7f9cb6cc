"""The 24 h event-volume chart as server-side SVG: stacked bars per hour by event group, axes and a legend; and
the axis, legend and tick helpers the "Game KPIs" charts (kpi_ui/charts.py) draw with too.

Rendered on the server so the page needs no JavaScript library and no network (no CDN). Every bar segment carries
``data-hour``/``data-group``/``data-events`` and a ``<title>`` tooltip, so a browser test can read the numbers.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape

from game_analytics.health.snapshot import HourVolume

WIDTH, HEIGHT = 820, 250
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 62, 12, 30, 34
# Colour-blind-safe (Tableau 10) colours, one per event group in name order (level, purchase, session).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^n >= value (a tick step that reads well); 1 for nothing."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def axis_ticks(highest: float, at_most: int = 5) -> list[float]:
    """0 to the first round tick >= ``highest``, at most ``at_most`` steps: 2170 -> 0, 1000, 2000, 3000."""
    step = max(nice_step(highest / at_most), 1.0)
    return [step * n for n in range(max(math.ceil(highest / step), 1) + 1)]


def short_count(value: float) -> str:
    """An axis label: ``2500`` -> ``2.5k``, ``3000000`` -> ``3M``."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def y_axis(ticks: list[float], y, title: str, left: float, right: float, top: float, plot_h: float, label=short_count):
    """Horizontal grid lines with their labels at ``ticks`` (``y`` maps a value to its pixel row), and the
    axis title turned along the left edge; ``label`` formats a tick."""
    parts = [
        f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d0d7de" stroke-width="1"/>'
        f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="axis">{label(tick)}</text>'
        for tick in ticks
    ]
    middle = f"{top + plot_h / 2:.0f}"
    parts.append(
        f'<text x="14" y="{middle}" transform="rotate(-90 14 {middle})" text-anchor="middle" class="axis">'
        f"{escape(title)}</text>"
    )
    return parts


def legend(entries: list[tuple[str, str]], left: float, dashed: frozenset[str] = frozenset()) -> list[str]:
    """A legend along the top: (name, colour) entries, a line sample for the ``dashed`` names, a square otherwise."""
    parts = []
    for name, colour in entries:
        if name in dashed:
            parts.append(
                f'<line x1="{left}" x2="{left + 12}" y1="14" y2="14" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="4 2"/>'
            )
        else:
            parts.append(f'<rect x="{left}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + 16}" y="18" class="legend">{escape(name)}</text>')
        left += 24 + 8 * len(name) + 20
    return parts


def empty_note(text: str, x: float, y: float) -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="middle" class="empty">{escape(text)}</text>'


def volume_chart(hours: list[datetime], volume: list[HourVolume]) -> str:
    """``hours``: every hour on the x axis, oldest first (hours without rows show no bar)."""
    groups = sorted({v.event_group for v in volume})
    colours = {group: PALETTE[i % len(PALETTE)] for i, group in enumerate(groups)}
    by_hour: dict[datetime, dict[str, int]] = {hour: {} for hour in hours}
    for row in volume:
        if row.hour in by_hour:
            by_hour[row.hour][row.event_group] = row.events
    ticks = axis_ticks(max((sum(groups_.values()) for groups_ in by_hour.values()), default=0))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - MARGIN_LEFT - MARGIN_RIGHT, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / max(len(hours), 1)
    bar_w = slot * 0.72

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="Events per hour of the last 24 hours by event group" class="volume-chart">'
    ]
    parts += y_axis(ticks, y, "events / hour", MARGIN_LEFT, WIDTH - MARGIN_RIGHT, MARGIN_TOP, plot_h)
    for index, hour in enumerate(hours):
        x = MARGIN_LEFT + index * slot + (slot - bar_w) / 2
        base = 0
        for group in groups:
            events = by_hour[hour].get(group, 0)
            if not events:
                continue
            title = f"{hour:%Y-%m-%d %H}:00 UTC · {group}: {events:,}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y(base + events):.1f}" width="{bar_w:.1f}" '
                f'height="{y(base) - y(base + events):.1f}" fill="{colours[group]}" '
                f'data-hour="{hour.isoformat()}" data-group="{escape(group)}" data-events="{events}">'
                f"<title>{escape(title)}</title></rect>"
            )
            base += events
        if index % 3 == 0 or index == len(hours) - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 15}" text-anchor="middle" '
                f'class="axis">{hour:%H}:00</text>'
            )
    parts.append(
        f'<text x="{MARGIN_LEFT + plot_w / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle" class="axis">'
        f"hour (UTC), {hours[0]:%b %d %H}:00 to {hours[-1]:%b %d %H}:00</text>"
        if hours
        else ""
    )
    parts += legend([(group, colours[group]) for group in groups], MARGIN_LEFT)
    if not groups:
        parts.append(empty_note("no events in the last 24 hours", MARGIN_LEFT + plot_w / 2, MARGIN_TOP + plot_h / 2))
    parts.append("</svg>")
    return "".join(parts)
