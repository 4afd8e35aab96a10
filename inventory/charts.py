"""Charts drawn on the server as inline SVG: no JavaScript, no library, no CDN.

``on_hand_chart``: on-hand stock over time, one step line per warehouse (stock changes in
steps, at each movement), from the ledger's ``balance_after``. ``weekly_sales_chart``: bars
of the quantity sold each week. Both return markup safe to include in a template, sized by
their viewBox so that CSS scales them to the page (laptop or phone).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

#: Okabe-Ito colours: told apart by colour-blind readers, dark enough on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Dash patterns tell the lines apart without colour too (print, colour blindness).
DASHES = ("", "6 3", "2 3", "8 3 2 3")

WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 30
X_TICKS = 6


@dataclass(frozen=True)
class Series:
    """One warehouse's on-hand quantity: ``points`` are (moment, quantity from then on)."""

    label: str
    points: Sequence[tuple[datetime, Decimal]]


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    dash: str


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    legend: list[LegendEntry]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above ``value``: a grid step."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _px(value: float) -> str:
    """A coordinate, formatted before format_html (which turns its arguments into text)."""
    return f"{value:.1f}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _date_label(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "j M")


def on_hand_chart(
    series: Sequence[Series],
    *,
    start: datetime,
    end: datetime,
    threshold: Decimal | None = None,
    title: str,
) -> Chart:
    """Step lines of on-hand stock from ``start`` to ``end``; a dashed line at ``threshold``."""
    top = max(
        [float(quantity) for line in series for _, quantity in line.points]
        + [float(threshold or 0), 0.0]
    )
    lowest = min([0.0] + [float(q) for line in series for _, q in line.points])
    # About four round steps of grid; the axis ends on whole steps, below zero too (stock
    # oversold where a warehouse allows it).
    step = nice_ceiling((top - lowest) / 4 if top > lowest else 1)
    y_max = math.ceil(top * 1.05 / step) * step or step
    y_min = math.floor(lowest / step) * step
    span = (end - start).total_seconds() or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        seconds = min(max((moment - start).total_seconds(), 0.0), span)
        return LEFT + plot_w * seconds / span

    def y(quantity: float) -> float:
        return TOP + plot_h * (y_max - quantity) / ((y_max - y_min) or 1.0)

    parts = [_grid(y, y_min, y_max, step), _x_axis(x, start, end)]
    if threshold is not None:
        parts.append(
            format_html(
                '<line class="chart-threshold" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-threshold-label" x="{}" y="{}">alert {}</text>',
                LEFT,
                WIDTH - RIGHT,
                _px(y(float(threshold))),
                _px(y(float(threshold))),
                WIDTH - RIGHT - 4,
                _px(y(float(threshold)) - 4),
                _number(float(threshold)),
            )
        )
    legend = []
    for index, line in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        legend.append(LegendEntry(line.label, colour, dash))
        parts.append(_step_path(line, x, y, end, colour, dash))
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        title,
        mark_safe("".join(parts)),  # every part was built with format_html
    )
    return Chart(svg=svg, legend=legend)


def _grid(y, y_min: float, y_max: float, step: float) -> str:
    lines = []
    value = 0.0
    while value <= y_max + 1e-9:
        lines.append(value)
        value += step
    value = -step
    while value >= y_min - 1e-9:
        lines.append(value)
        value -= step
    return "".join(
        format_html(
            '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="chart-y" x="{}" y="{}">{}</text>',
            LEFT,
            WIDTH - RIGHT,
            _px(y(value)),
            _px(y(value)),
            LEFT - 6,
            _px(y(value) + 4),
            _number(value),
        )
        for value in sorted(lines)
    )


def _x_axis(x, start: datetime, end: datetime) -> str:
    span = end - start
    ticks = [start + span * index / (X_TICKS - 1) for index in range(X_TICKS)]
    return format_html(
        '<line class="chart-axis" x1="{}" x2="{}" y1="{}" y2="{}"/>{}',
        LEFT,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM,
        mark_safe(
            "".join(
                format_html(
                    '<text class="chart-x" x="{}" y="{}" text-anchor="{}">{}</text>',
                    _px(x(tick)),
                    HEIGHT - 8,
                    "start" if index == 0 else "end" if index == X_TICKS - 1 else "middle",
                    _date_label(tick),
                )
                for index, tick in enumerate(ticks)
            )
        ),
    )


def _step_path(line: Series, x, y, end: datetime, colour: str, dash: str) -> str:
    if not line.points:
        return ""
    first_moment, first_quantity = line.points[0]
    commands = [f"M{x(first_moment):.1f},{y(float(first_quantity)):.1f}"]
    for moment, quantity in line.points[1:]:
        commands.append(f"H{x(moment):.1f}V{y(float(quantity)):.1f}")
    commands.append(f"H{x(end):.1f}")
    return format_html(
        '<path class="chart-line" d="{}" stroke="{}"{}><title>{}</title></path>',
        "".join(commands),
        colour,
        format_html(' stroke-dasharray="{}"', dash) if dash else "",
        line.label,
    )


def weekly_sales_chart(weeks: Sequence, *, title: str) -> SafeString:
    """Bars of ``weeks`` (objects with ``start``, ``end``, ``quantity``), oldest first."""
    width, height, bottom, top = 720, 150, 24, 18
    slot = width / max(len(weeks), 1)
    peak = max([float(week.quantity) for week in weeks] + [0.0]) or 1.0
    bars = []
    for index, week in enumerate(weeks):
        quantity = float(week.quantity)
        bar_h = (height - bottom - top) * quantity / peak
        left = index * slot + slot * 0.15
        last_day = week.end - timedelta(seconds=1)
        label = f"{_date_label(week.start)} – {_date_label(last_day)}"
        bars.append(
            format_html(
                "<g><title>{}: {} sold</title>"
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}"/>'
                '<text class="chart-bar-value" x="{}" y="{}">{}</text>'
                '<text class="chart-x" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                label,
                _number(quantity),
                _px(left),
                _px(height - bottom - bar_h),
                _px(slot * 0.7),
                _px(bar_h),
                _px(left + slot * 0.35),
                _px(height - bottom - bar_h - 4),
                _number(quantity),
                _px(left + slot * 0.35),
                height - 6,
                _date_label(week.start),
            )
        )
    return format_html(
        '<svg class="chart chart-bars" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        width,
        height,
        title,
        title,
        mark_safe("".join(bars)),  # every bar was built with format_html
    )
