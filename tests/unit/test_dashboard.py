"""The dashboard's charts: plain SVG shapes (no inline style, for the CSP), with
escaped titles and the same data as a table for screen readers."""

from __future__ import annotations

import datetime as dt

from services.moderation.dashboard import hbars, line_chart, stacked_bars

DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(14)]


def test_a_line_chart_has_a_point_and_a_table_row_per_day() -> None:
    chart = line_chart("Queue <depth>", DAYS, [float(i) for i in range(14)])
    svg = str(chart.svg)
    assert svg.startswith('<svg class="chart"') and "Queue &lt;depth&gt;" in svg and "<depth>" not in svg
    assert svg.count("<circle") == 14 and "style=" not in svg
    assert chart.rows[0] == ("2026-03-01", "0.0") and len(chart.rows) == 14
    assert "14 Mar" in svg  # the newest day always has a label


def test_stacked_bars_add_up_and_name_each_series() -> None:
    chart = stacked_bars("Decisions", DAYS, {"approved": [1] * 14, "rejected": [0] * 13 + [2]})
    assert chart.rows[-1] == ("2026-03-14", "1 approved, 2 rejected")
    assert str(chart.svg).count('class="bar bar-rejected"') == 2  # one bar and the legend


def test_horizontal_bars_show_counts_and_shares() -> None:
    chart = hbars("Labels", {"clear": 3, "held": 1})
    assert "3 (75%)" in str(chart.svg) and chart.rows == [("clear", "3"), ("held", "1")]


def _ticks(svg: str) -> list[str]:
    import re

    return re.findall(r'text-anchor="end">([^<]+)</text>', svg)


def test_count_charts_have_whole_number_ticks() -> None:
    # Issue 14, point 8: a depth of 7 drew ticks 0, 3.9, 7.7; decisions of 1 drew 0.6, 1.1.
    depth = line_chart("Depth", DAYS, [7.0] + [0.0] * 13, counts=True)
    assert [t for t in _ticks(str(depth.svg)) if "Mar" not in t] == ["0", "4", "8"]
    assert depth.rows[0] == ("2026-03-01", "7")
    bars = stacked_bars("Decisions", DAYS, {"approved": [1] + [0] * 13, "rejected": [0] * 14})
    assert [t for t in _ticks(str(bars.svg)) if "Mar" not in t] == ["0", "1", "2"]
