"""The "Game KPIs" charts as server-side SVG: stacked bars or lines over a category axis (days, cohorts, levels,
5-minute windows), drawn with the health page's axis and legend helpers (health_ui/svg.py).

Rendered on the server, so the page needs no JavaScript library and no network. Every bar and every point carries
``data-chart`` / ``data-series`` / ``data-x`` / ``data-value`` (the raw number) and a ``<title>`` tooltip, so a
browser test reads the numbers the chart draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from game_analytics.health_ui.svg import PALETTE, axis_ticks, empty_note, legend, short_count, y_axis

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 62, 12, 30, 34
MAX_X_LABELS = 10
RATE_TICKS = [0.0, 0.25, 0.5, 0.75, 1.0]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per x, None = no value there
    colour: str = PALETTE[0]
    dashed: bool = False


def percent_tick(value: float) -> str:
    return f"{value * 100:.0f}%"


@dataclass(frozen=True)
class Chart:
    """One chart's frame: ``key`` names it in the ``data-chart`` attributes; ``text`` formats a value for its
    tooltip; rate charts (``rates``) have a fixed 0-100 % axis."""

    key: str
    label: str  # what a screen reader says
    y_title: str
    xs: list[str]  # the raw x values (data-x), in order
    x_labels: list[str]  # as shown under the axis
    text: Callable[[float], str] = short_count
    rates: bool = False
    width: int = 640
    height: int = 230
    empty: str = "no data yet"
    label_step: int = 1  # label only x positions that are multiples of this (12 windows = an hour)

    @property
    def plot(self) -> tuple[float, float]:
        return self.width - MARGIN_LEFT - MARGIN_RIGHT, self.height - MARGIN_TOP - MARGIN_BOTTOM

    @property
    def slot(self) -> float:
        return self.plot[0] / max(len(self.xs), 1)

    def centre(self, index: int) -> float:
        return MARGIN_LEFT + (index + 0.5) * self.slot

    def _mark_data(self, series: Series, index: int, value: float) -> str:
        return (
            f'data-chart="{escape(self.key)}" data-series="{escape(series.name)}" data-x="{escape(self.xs[index])}" '
            f'data-value="{value!r}"><title>{escape(self.x_labels[index])} · {escape(series.name)}: '
            f"{escape(self.text(value))}</title>"
        )

    def _frame(self, highest: float, series: list[Series], marks: list[str]) -> str:
        plot_w, plot_h = self.plot
        ticks = RATE_TICKS if self.rates else axis_ticks(highest)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" width="100%" '
            f'role="img" aria-label="{escape(self.label)}" class="chart" data-chart-key="{escape(self.key)}">'
        ]
        label = percent_tick if self.rates else short_count
        parts += y_axis(
            ticks, self.scale(highest), self.y_title, MARGIN_LEFT, self.width - MARGIN_RIGHT, MARGIN_TOP, plot_h, label
        )
        every = self.label_step * max(math.ceil(len(self.xs) / self.label_step / MAX_X_LABELS), 1)
        for index, text in enumerate(self.x_labels):
            if index % every == 0:
                parts.append(
                    f'<text x="{self.centre(index):.1f}" y="{self.height - MARGIN_BOTTOM + 15}" '
                    f'text-anchor="middle" class="axis">{escape(text)}</text>'
                )
        parts += marks
        parts += legend(
            [(s.name, s.colour) for s in series], MARGIN_LEFT, frozenset(s.name for s in series if s.dashed)
        )
        if not marks:
            parts.append(empty_note(self.empty, MARGIN_LEFT + plot_w / 2, MARGIN_TOP + plot_h / 2))
        parts.append("</svg>")
        return "".join(parts)

    def scale(self, highest: float) -> Callable[[float], float]:
        """The value -> pixel row of this chart's y axis for data up to ``highest``."""
        _, plot_h = self.plot
        top = RATE_TICKS[-1] if self.rates else axis_ticks(highest)[-1]
        return lambda value: MARGIN_TOP + plot_h - min(value, top) / top * plot_h

    def bars(self, series: list[Series]) -> str:
        """Bars stacked per x in ``series`` order (None and 0 draw nothing)."""
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(self.xs))]
        highest = max(totals, default=0)
        y = self.scale(highest)
        width = self.slot * 0.72
        marks = []
        for index in range(len(self.xs)):
            base = 0.0
            for s in series:
                value = s.values[index]
                if not value:
                    continue
                marks.append(
                    f'<rect x="{self.centre(index) - width / 2:.1f}" y="{y(base + value):.1f}" width="{width:.1f}" '
                    f'height="{y(base) - y(base + value):.1f}" fill="{s.colour}" {self._mark_data(s, index, value)}'
                    "</rect>"
                )
                base += value
        return self._frame(highest, series, marks)

    def lines(self, series: list[Series]) -> str:
        """A line per series through its points (a None breaks the line), and a dot at every point."""
        highest = max((v for s in series for v in s.values if v is not None), default=0)
        y = self.scale(highest)
        marks = []
        for s in series:
            dash = ' stroke-dasharray="5 3"' if s.dashed else ""
            runs: list[list[str]] = [[]]
            for index, value in enumerate(s.values):
                if value is None:
                    runs.append([])
                    continue
                runs[-1].append(f"{self.centre(index):.1f},{y(value):.1f}")
            marks += [
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>'
                for run in runs
                if len(run) > 1
            ]
            marks += [
                f'<circle cx="{self.centre(index):.1f}" cy="{y(value):.1f}" r="3" fill="{s.colour}" '
                f"{self._mark_data(s, index, value)}</circle>"
                for index, value in enumerate(s.values)
                if value is not None
            ]
        return self._frame(highest, series, marks)
