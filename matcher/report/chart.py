"""The cost chart's geometry: one bar per option (its range, and a lighter tail as far as a
complicated course goes) on one axis with the US reference.

A small hand-built SVG (drawn by the template from these numbers) rather than matplotlib:
a dozen rectangles and labels do not need a plotting library that takes a second to import,
and text in the SVG uses the report's own font, so Chinese labels render in the PDF too.
"""

from __future__ import annotations

import math
from typing import Any

WIDTH = 680
LABEL_WIDTH = 230
RIGHT_MARGIN = 20
ROW = 26
TOP = 8
AXIS = 34
LABEL_CHARS = 34


def chart_geometry(chart: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Pixel positions of the bars and ticks, or None when no option has a total."""
    rows = chart["rows"]
    if not rows:
        return None
    top = max(r["worst"] for r in rows) * 1.04
    step = _step(top)
    span = WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(value: float) -> float:
        return round(LABEL_WIDTH + span * value / top, 1)

    bars = []
    for n, row in enumerate(rows):
        y = TOP + n * ROW
        bars.append(
            {"label": _short(row["label"]), "y": y, "text_y": y + ROW * 0.62, "us": row["us"],
             "x": x(row["low"]), "width": max(x(row["high"]) - x(row["low"]), 2.0),
             "tail_x": x(row["high"]), "tail_width": max(x(row["worst"]) - x(row["high"]), 0)}
        )  # fmt: skip
    height = TOP + len(rows) * ROW + AXIS
    ticks = [
        {"x": x(v), "text": tick_text(v, lang)}
        for v in (step * i for i in range(int(top // step) + 1))
    ]
    return {
        "width": WIDTH,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "axis_y": TOP + len(rows) * ROW + 4,
        "left": LABEL_WIDTH,
        "bar_height": ROW * 0.55,
        "currency": chart["currency"],
    }


def _step(top: float) -> float:
    """A round tick step giving at most six ticks."""
    magnitude = 10 ** math.floor(math.log10(top))
    for factor in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        if top / (factor * magnitude) <= 6:
            return factor * magnitude
    return 10 * magnitude


def tick_text(value: float, lang: str) -> str:
    """An axis label: '1.5 M', '500k'; '150万'."""
    if value == 0:
        return "0"
    if lang == "zh":
        return f"{value / 1e4:g}万"
    return f"{value / 1e6:g} M" if value >= 1e6 else f"{value / 1e3:g}k"


def _short(label: str) -> str:
    """The label cut to fit its column; a CJK character takes about two Latin widths."""
    width = 0
    for n, char in enumerate(label):
        width += 2 if ord(char) > 0x2E80 else 1
        if width > LABEL_CHARS:
            return label[: max(n - 1, 1)] + "…"
    return label
