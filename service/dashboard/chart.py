"""Decisions over time as a stacked bar chart, drawn on the server as SVG geometry.

No charting library and no script: the page must work offline and without JavaScript, and a
few rectangles per day are all a stacked bar chart is. The template draws the rectangles
this module places; the same numbers are also on the page as a table, for screen readers
and for anyone who wants the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OUTCOMES = ("allow", "conditions", "deny")
WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 44, 28, 8  # room for the axis labels
GRID_LINES = 4


@dataclass(frozen=True)
class Bar:
    outcome: str
    x: float
    y: float
    width: float
    height: float
    day: str
    count: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    baseline: float


def nice_top(largest: int) -> int:
    """The axis's top: the largest count rounded up to 1, 2 or 5 times a power of ten, so the grid
    lines fall on round numbers."""
    if largest <= GRID_LINES:
        return GRID_LINES
    step = largest / GRID_LINES
    power = 10 ** math.floor(math.log10(step))
    nice = next(m * power for m in (1, 2, 5, 10) if m * power >= step)
    return int(nice * GRID_LINES)


def stacked(days: list[tuple[str, dict[str, int]]]) -> Chart:
    """Bars for `days` (day, counts per outcome), oldest first: one column per day, the
    outcomes stacked allow at the bottom, deny on top; every seventh day labelled."""
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    top = nice_top(max((sum(c.values()) for _, c in days), default=0))
    column = plot_width / max(len(days), 1)
    baseline = float(TOP + plot_height)
    bars, labels = [], []
    for i, (day, counts) in enumerate(days):
        x, y = LEFT + i * column + column * 0.15, float(baseline)
        for outcome in OUTCOMES:
            count = counts.get(outcome, 0)
            if count:
                height = plot_height * count / top
                y -= height
                bars.append(
                    Bar(
                        outcome,
                        round(x, 2),
                        round(y, 2),
                        round(column * 0.7, 2),
                        round(height, 2),
                        day,
                        count,
                    )
                )
        if (len(days) - 1 - i) % 7 == 0:
            labels.append(Label(round(LEFT + (i + 0.5) * column, 2), day[5:]))
    ticks = [
        Tick(round(baseline - plot_height * k / GRID_LINES, 2), top * k // GRID_LINES)
        for k in range(GRID_LINES + 1)
    ]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline)
