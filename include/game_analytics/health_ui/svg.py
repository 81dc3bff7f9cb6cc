"""The 24 h event-volume chart as server-side SVG: stacked bars per hour by event group, axes and a legend.

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


def _count(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


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
    for tick in ticks:  # y grid and labels
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="axis">{_count(tick)}</text>'
        )
    parts.append(
        f'<text x="14" y="{MARGIN_TOP + plot_h / 2:.0f}" transform="rotate(-90 14 {MARGIN_TOP + plot_h / 2:.0f})" '
        f'text-anchor="middle" class="axis">events / hour</text>'
    )
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
    legend_x = MARGIN_LEFT
    for group in groups:
        parts.append(
            f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colours[group]}"/>'
            f'<text x="{legend_x + 16}" y="18" class="legend">{escape(group)}</text>'
        )
        legend_x += 24 + 8 * len(group) + 20
    if not groups:
        parts.append(
            f'<text x="{MARGIN_LEFT + plot_w / 2:.0f}" y="{MARGIN_TOP + plot_h / 2:.0f}" text-anchor="middle" '
            f'class="empty">no events in the last 24 hours</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
