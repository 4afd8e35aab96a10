"""Server-rendered SVG charts: on-hand step lines and weekly sales bars."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from inventory.charts import (
    DASHES,
    HEIGHT,
    LEFT,
    PALETTE,
    RIGHT,
    WIDTH,
    Series,
    nice_ceiling,
    on_hand_chart,
    weekly_sales_chart,
)

START = datetime.fromisoformat("2025-04-01T00:00:00+00:00")
END = START + timedelta(days=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (0.4, 1), (3, 5), (7.5, 10), (11, 20), (21, 25), (180, 200), (260, 500)],
)
def test_nice_ceiling_rounds_a_grid_step_up_to_a_round_number(value, expected):
    assert nice_ceiling(value) == expected


def path_of(svg: str, label: str) -> str:
    return re.search(rf'<path class="chart-line" d="([^"]+)"[^>]*><title>{label}</title>', svg)[1]


def test_on_hand_is_drawn_as_steps_from_start_to_end():
    series = [Series("PAR", [(START, Decimal(10)), (START + timedelta(days=5), Decimal(0))])]

    chart = on_hand_chart(series, start=START, end=END, title="Stock")

    # Grid steps of 2.5 (10 / 4); the axis tops at 12.5, the first step above 10.5 (10 and a
    # margin): 10 sits at 4/5 of the height.
    plot_h = HEIGHT - 14 - 30
    mid, bottom = 14 + plot_h / 5, 14 + plot_h
    middle_x = LEFT + (WIDTH - LEFT - RIGHT) / 2
    assert path_of(chart.svg, "PAR") == (
        f"M{LEFT:.1f},{mid:.1f}H{middle_x:.1f}V{bottom:.1f}H{WIDTH - RIGHT:.1f}"
    )


def test_each_warehouse_gets_its_own_colour_and_dash_in_the_legend():
    series = [Series(code, [(START, Decimal(index))]) for index, code in enumerate("ABCDEFGH")]

    chart = on_hand_chart(series, start=START, end=END, title="Stock")

    assert [(e.label, e.colour, e.dash) for e in chart.legend[:2]] == [
        ("A", PALETTE[0], DASHES[0]),
        ("B", PALETTE[1], DASHES[1]),
    ]
    pairs = {(e.colour, e.dash) for e in chart.legend}
    assert len(pairs) == 8  # told apart by colour, and by dash where colours repeat
    assert chart.svg.count('class="chart-line"') == 8


def test_threshold_is_a_dashed_line_with_its_value():
    series = [Series("PAR", [(START, Decimal(40))])]

    chart = on_hand_chart(series, start=START, end=END, threshold=Decimal(12), title="Stock")

    assert 'class="chart-threshold"' in chart.svg
    assert ">alert 12</text>" in chart.svg


def test_negative_stock_extends_the_axis_below_zero():
    series = [Series("PAR", [(START, Decimal(5)), (START + timedelta(days=1), Decimal(-3))])]

    svg = on_hand_chart(series, start=START, end=END, title="Stock").svg

    assert ">-4</text>" in svg and ">6</text>" in svg  # steps of 2, from -4 up to 6


def test_labels_and_title_are_escaped():
    series = [Series("<b>", [(START, Decimal(1))])]

    svg = on_hand_chart(series, start=START, end=END, title='Stock of "A&B"').svg

    assert "<b>" not in svg.replace("<title>&lt;b&gt;</title>", "")
    assert 'aria-label="Stock of &quot;A&amp;B&quot;"' in svg


def test_weekly_sales_bars_are_as_tall_as_their_quantity():
    weeks = [
        SimpleNamespace(start=START + timedelta(days=7 * i), end=START + timedelta(days=7 * i + 7),
                        quantity=Decimal(q))
        for i, q in enumerate([10, 5, 0])
    ]  # fmt: skip

    svg = weekly_sales_chart(weeks, title="Sales")

    heights = [float(h) for h in re.findall(r'<rect class="chart-bar"[^>]* height="([\d.]+)"', svg)]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert "<title>1 Apr – 7 Apr: 10 sold</title>" in svg
