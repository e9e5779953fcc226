"""Horizontal bar charts drawn on the server as SVG: the geometry is computed here, the
markup is ``templates/web/_charts.html.j2``, the colours are ``static/web.css``.

No chart library and nothing from another site: the pages work offline and without
JavaScript, and a chart is as fast to draw as the table beside it. Every chart is one
row of bars per group (a step, a source, a measure), one bar per series, each bar with
its value written beside it, so the picture never needs the reader to guess a number::

    bar_chart("sources", "Acceptance and win rate", ["web", "expo"],
              ["acceptance", "win rate"], [[0.5, 1.0], [1.0, 0.0]], percent, top=1.0)

A value of None draws no bar and says "-". The scale starts at 0 and ends at a round
number (or ``top``), cut in four by the ticks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 600
LABEL_WIDTH = 180  # the groups' names, left of the bars
VALUE_WIDTH = 125  # the values, right of the longest bar
BAR = 16  # a bar's height
BAR_GAP = 2  # between the bars of one group
GROUP_GAP = 12  # between groups
AXIS = 22  # the ticks' labels, above the bars
LEGEND = 24  # the series' names, above the ticks (two series or more)
LABEL_CHARS = 23  # longer names are cut, in full in the bar's tooltip


@dataclass(frozen=True)
class Bar:
    series: int  # which series: its colour (class ``s0``, ``s1``...)
    y: float
    width: float
    text: str  # the value as written beside the bar
    title: str  # the tooltip: group, series and value


@dataclass(frozen=True)
class Group:
    label: str  # as drawn (cut to LABEL_CHARS)
    full: str
    y: float  # the middle of the group's bars
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Key:
    """A series' name in the legend, after a swatch of its colour."""

    x: float
    series: int
    name: str


@dataclass(frozen=True)
class Chart:
    id: str  # unique on the page: ties the SVG to its title and description
    title: str
    summary: str  # every value in words, for screen readers (the SVG's <desc>)
    series: list[str]
    groups: list[Group]
    ticks: list[Tick]
    height: float
    legend: list[Key]  # empty for one series
    axis_y: float  # where the ticks' labels stand; their lines run from there down
    note: str = ""  # what the chart leaves out, if anything
    width: int = WIDTH
    plot_x: int = LABEL_WIDTH
    bar_height: int = BAR


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[str],
    values: Sequence[Sequence[float | None]],
    text: Callable[[float], str],
    *,
    top: float | None = None,
    nice: Callable[[float], float] | None = None,
    texts: Sequence[Sequence[str]] | None = None,
    note: str = "",
) -> Chart:
    """A chart of ``values[g][s]`` (group g, series s). ``text`` writes a value and the
    ticks; ``texts`` (same shape) overrides what is written beside each bar; ``top`` is the
    end of the scale, else ``nice`` (default :func:`nice_number`) rounds the largest value
    up."""
    if len(labels) != len(values) or any(len(row) != len(series) for row in values):
        raise ValueError(f"chart {chart_id}: {len(labels)} labels, values not groups x series")
    largest = max((v for row in values for v in row if v is not None), default=0.0)
    end = top if top is not None else (nice or nice_number)(largest)
    end = end if end > 0 else 1.0
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    legend = _legend(series)
    axis_y = float(LEGEND if legend else 0)
    y = axis_y + AXIS
    groups = []
    for g, label in enumerate(labels):
        bars = []
        for s, value in enumerate(values[g]):
            shown = texts[g][s] if texts is not None else _text(value, text)
            width = 0.0 if value is None else plot * min(max(value, 0.0), end) / end
            name = f"{label}, {series[s]}: {shown}" if legend else f"{label}: {shown}"
            bars.append(Bar(s, y + s * (BAR + BAR_GAP), round(width, 1), shown, name))
        height = len(series) * BAR + (len(series) - 1) * BAR_GAP
        groups.append(Group(_cut(label), label, y + height / 2, bars))
        y += height + GROUP_GAP
    ticks = [Tick(LABEL_WIDTH + plot * i / 4, text(end * i / 4)) for i in range(5)]
    summary = "; ".join(
        f"{group.full}: " + ", ".join(f"{series[b.series]} {b.text}" for b in group.bars)
        for group in groups
    )
    return Chart(chart_id, title, summary, list(series), groups, ticks, y, legend, axis_y, note)


def _legend(series: Sequence[str]) -> list[Key]:
    """Each series' name after a swatch, left to right (about 7.5 units a character at 13px)."""
    if len(series) < 2:
        return []
    keys, x = [], 0.0
    for s, name in enumerate(series):
        keys.append(Key(x, s, name))
        x += 12 + 5 + 7.5 * len(name) + 18
    return keys


def _text(value: float | None, text: Callable[[float], str]) -> str:
    return "-" if value is None else text(value)


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def nice_number(value: float) -> float:
    """The smallest of 1, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at least ``value``: the end of a scale
    cut in four (every quarter a round number)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-9):
            return float(step * power)
    return float(10 * power)


DURATIONS = [
    m * 60 for m in (1, 4, 20, 60, 120, 240, 480, 720, 1440, 2880, 5760, 11_520, 20_160, 40_320)
]
"""Ends of a scale of seconds, each cut in four at a readable time (up to 28 days)."""


def nice_duration(seconds: float) -> float:
    """The smallest of :data:`DURATIONS` at least ``seconds``; past them, whole days."""
    for end in DURATIONS:
        if end >= seconds:
            return float(end)
    return nice_number(seconds / 86_400) * 86_400
