"""The dashboard: a few numbers and small server-rendered SVG charts.

No chart library and no third-party assets: each chart is an <svg> built here
from plain shapes with presentation attributes (the CSP forbids inline styles),
with a <title> and a data table beside it for screen readers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import asyncpg
from markupsafe import Markup, escape

from services.moderation.screen.policy import OUTCOMES

DAYS = 14
W, H, PAD_L, PAD_B, PAD_T = 560, 180, 56, 26, 10


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup
    rows: list[tuple[str, str]]  # the same data as a table


def count_top(biggest: float) -> int:
    """The top of a count chart's axis: a whole, even number at least 10% above the
    biggest count, so the three ticks (0, half, top) are whole numbers: a count
    of stories has no 1.1 or 7.7."""
    top = max(2, math.ceil(biggest * 1.1))
    return top + top % 2


def _frame(title: str, inner: list[str], y_max: float, y_unit: str = "") -> Markup:
    ticks = []
    for i in range(3):
        v = y_max * i / 2
        y = H - PAD_B - (H - PAD_B - PAD_T) * i / 2
        label = f"{v:.0f}" if y_max >= 10 or v == int(v) else f"{v:.1f}"
        ticks.append(f'<line class="grid" x1="{PAD_L}" x2="{W}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{label}{y_unit}</text>')
    return Markup(f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">'
                  f"<title>{escape(title)}</title>{''.join(ticks)}{''.join(inner)}</svg>")


def _x_labels(days: list[dt.date], x_of) -> list[str]:  # noqa: ANN001 - a small local callable
    out = []
    last = len(days) - 1
    for i, d in enumerate(days):
        # Every third day counted back from today, so the newest day always has a label.
        if (last - i) % 3 == 0:
            anchor = "end" if i == last else "middle"
            out.append(f'<text class="tick" x="{x_of(i):.1f}" y="{H - 8}" text-anchor="{anchor}">'
                       f"{d.strftime('%-d %b')}</text>")
    return out


def line_chart(title: str, days: list[dt.date], values: list[float], unit: str = "",
               counts: bool = False) -> Chart:
    y_max = count_top(max(values, default=0)) if counts else max([*values, 1.0]) * 1.1
    span = (W - PAD_L - 10) / max(1, len(days) - 1)

    def x_of(i: int) -> float:
        return PAD_L + 5 + i * span

    def y_of(v: float) -> float:
        return H - PAD_B - (H - PAD_B - PAD_T) * v / y_max

    points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
    inner = [f'<polyline class="line" fill="none" points="{points}"/>']
    inner += [f'<circle class="dot" cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="2.5"><title>'
              f"{d.isoformat()}: {v:.{0 if counts else 1}f}{unit}</title></circle>"
              for i, (d, v) in enumerate(zip(days, values, strict=True))]
    inner += _x_labels(days, x_of)
    return Chart(title, _frame(title, inner, y_max, unit),
                 [(d.isoformat(), f"{v:.{0 if counts else 1}f}{unit}") for d, v in zip(days, values, strict=True)])


def stacked_bars(title: str, days: list[dt.date], series: dict[str, list[int]]) -> Chart:
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(days))]
    y_max = count_top(max(totals, default=0))
    slot = (W - PAD_L - 10) / max(1, len(days))

    def x_of(i: int) -> float:
        return PAD_L + 5 + i * slot + slot / 2

    inner = []
    for i, d in enumerate(days):
        base = H - PAD_B
        for name, vals in series.items():
            h = (H - PAD_B - PAD_T) * vals[i] / y_max
            if h > 0:
                inner.append(f'<rect class="bar bar-{name}" x="{x_of(i) - slot * 0.35:.1f}" y="{base - h:.1f}"'
                             f' width="{slot * 0.7:.1f}" height="{h:.1f}"><title>{d.isoformat()}: {vals[i]} {name}'
                             "</title></rect>")
            base -= h
    inner += _x_labels(days, x_of)
    legend_x = PAD_L + 8
    for name in series:
        inner.append(f'<rect class="bar bar-{name}" x="{legend_x}" y="{PAD_T}" width="10" height="10"/>'
                     f'<text class="tick" x="{legend_x + 14}" y="{PAD_T + 9}">{escape(name)}</text>')
        legend_x += 130  # room for the name at the phone's larger label size
    rows = [(d.isoformat(), ", ".join(f"{vals[i]} {name}" for name, vals in series.items()))
            for i, d in enumerate(days)]
    return Chart(title, _frame(title, inner, y_max), rows)


def hbars(title: str, values: dict[str, int]) -> Chart:
    total = max(1, sum(values.values()))
    biggest = max([*values.values(), 1])
    row_h = 28
    height = PAD_T + row_h * len(values) + 6
    inner = []
    for i, (name, n) in enumerate(values.items()):
        y = PAD_T + i * row_h
        w = (W - 110 - 90) * n / biggest
        inner.append(f'<text class="tick" x="100" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
                     f'<rect class="bar bar-{escape(name)}" x="110" y="{y + 4}" width="{w:.1f}" height="16">'
                     f"<title>{escape(name)}: {n}</title></rect>"
                     f'<text class="tick" x="{110 + w + 6:.1f}" y="{y + 16}">{n} ({100 * n / total:.0f}%)</text>')
    svg = Markup(f'<svg class="chart" data-kind="hbars" viewBox="0 0 {W} {height}" role="img"'
                 f' aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(inner)}</svg>')
    return Chart(title, svg, [(k, str(v)) for k, v in values.items()])


async def build(pool: asyncpg.Pool) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    # Depth at the end of each day: queued by then and not yet decided. Withdrawn
    # stories are deleted everywhere, so they drop out of history too.
    depth = await pool.fetch(
        "SELECT d::date AS day, (SELECT count(*) FROM queue_items q WHERE q.queued_on <= d::date"
        "   AND (q.decided_on IS NULL OR q.decided_on > d::date)) AS n"
        " FROM generate_series($1::date, $2::date, interval '1 day') AS d ORDER BY d", days[0], today)
    decided = await pool.fetch(
        "SELECT decided_on AS day, state, count(*) AS n"
        " FROM queue_items WHERE decided_on >= $1::date GROUP BY 1, 2", days[0])
    medians = await pool.fetch(
        "SELECT decided_on AS day,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY (decided_on - queued_on)::float8) AS median_days"
        " FROM queue_items WHERE decided_on >= $1::date GROUP BY 1", days[0])
    labels = await pool.fetch("SELECT label, count(*) AS n FROM queue_items GROUP BY label")
    overall = await pool.fetchval(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (decided_on - queued_on)::float8)"
        " FROM queue_items WHERE decided_on >= current_date - 14")

    by_day: dict[str, list[int]] = {"approved": [0] * DAYS, "rejected": [0] * DAYS}
    index = {d: i for i, d in enumerate(days)}
    for r in decided:
        if r["day"] in index and r["state"] in ("approved", "rejected", "unpublished"):
            by_day["approved" if r["state"] == "unpublished" else r["state"]][index[r["day"]]] += r["n"]
    med = [0.0] * DAYS
    for r in medians:
        if r["day"] in index and r["median_days"] is not None:
            med[index[r["day"]]] = r["median_days"]
    label_counts = {lab: 0 for lab in OUTCOMES}
    for r in labels:
        label_counts[r["label"]] = r["n"]
    return {
        "charts": [
            line_chart("Queue depth at the end of each day", days, [float(r["n"]) for r in depth], counts=True),
            stacked_bars("Decisions per day", days, by_day),
            line_chart("Median time to decision per day (days)", days, med, "d"),
            hbars("Screen labels of every story in the queue's history", label_counts),
        ],
        # Days, not hours: the queue keeps only the day a story was filed and decided.
        "median_days": overall or 0,
        "decided_14d": sum(sum(v) for v in by_day.values()),
    }
