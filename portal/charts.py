"""Server-rendered SVG bar charts: horizontal bars, grouped or stacked, no JavaScript.

Each chart is an image for assistive technologies (``role="img"`` with a ``<title>`` and a
``<desc>``); the page puts the same figures in a table next to it. Series are told apart by a
pattern as well as a colour (solid, hatched, dotted, cross-hatched), every colour has a
contrast of at least 4.5:1 on white, the legend names each series and grouped bars carry their
value as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
LABEL_WIDTH = 210  # category labels, right-aligned before the bars
VALUE_MARGIN = 56  # room for the value written after the longest bar
PLOT_WIDTH = WIDTH - LABEL_WIDTH - VALUE_MARGIN
LEGEND_HEIGHT = 30
AXIS_HEIGHT = 44
BAR_HEIGHT = 14
BAR_GAP = 2
GROUP_GAP = 12
STACK_HEIGHT = 20
LABEL_CHARS = 30
TEXT = "#1e1e1e"
AXIS = "#555555"
# blue, rust, green, plum: each at least 4.5:1 against white (WCAG 1.4.11 asks 3:1)
COLOURS = ("#000091", "#8d4000", "#18753c", "#6e445a")
PATTERN_NAMES = ("plein", "hachures", "points", "quadrillage")


@dataclass(frozen=True)
class Series:
    """A named row of values, one per category; None: no figure (no bar, a dash)."""

    name: str
    values: tuple[int | None, ...]


def _patterns(chart_id: str, count: int) -> list[str]:
    """One fill per series: a colour, and white strokes drawn over it for series 2, 3, 4."""
    defs = []
    for index in range(count):
        colour = COLOURS[index % len(COLOURS)]
        kind = index % len(PATTERN_NAMES)
        pid = f"{chart_id}-p{index}"
        base = f'<rect width="8" height="8" fill="{colour}"/>'
        overlay = {
            0: "",
            1: '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" stroke-width="1.5"/>',
            2: '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
            3: '<path d="M0,4 h8 M4,0 v8" stroke="#fff" stroke-width="1.2"/>',
        }[kind]
        defs.append(
            f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f"{base}{overlay}</pattern>"
        )
    return defs


def nice_step(maximum: int) -> int:
    """A round tick step (1, 2, 5 × 10^n) giving at most five intervals up to ``maximum``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if maximum <= 5 * step * factor:
                return step * factor
        step *= 10


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _legend(chart_id: str, series: Sequence[Series]) -> list[str]:
    parts, x = [], LABEL_WIDTH
    for index, serie in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="8" width="14" height="14" fill="url(#{chart_id}-p{index})" '
            f'stroke="{colour}"/>'
            f'<text x="{x + 20}" y="20" fill="{TEXT}">{escape(serie.name)}</text>'
        )
        x += 20 + 8 * len(serie.name) + 24
    return parts


def _axis(top: int, axis_max: int, step: int, unit: str, axis_label: str) -> list[str]:
    scale = PLOT_WIDTH / axis_max
    parts = [
        f'<line x1="{LABEL_WIDTH}" y1="{top}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y2="{top}" '
        f'stroke="{AXIS}"/>'
    ]
    for tick in range(0, axis_max + 1, step):
        x = _fmt(LABEL_WIDTH + tick * scale)
        parts.append(
            f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + 5}" stroke="{AXIS}"/>'
            f'<text x="{x}" y="{top + 18}" text-anchor="middle" fill="{TEXT}">'
            f"{tick}{escape(unit)}</text>"
        )
    parts.append(
        f'<text x="{LABEL_WIDTH + PLOT_WIDTH // 2}" y="{top + 36}" text-anchor="middle" '
        f'fill="{TEXT}">{escape(axis_label)}</text>'
    )
    return parts


def _bar(chart_id: str, index: int, x: float, y: int, width: float, height: int, tip: str) -> str:
    colour = COLOURS[index % len(COLOURS)]
    return (
        f'<rect class="bar" x="{_fmt(x)}" y="{y}" width="{_fmt(width)}" height="{height}" '
        f'fill="url(#{chart_id}-p{index})" stroke="{colour}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    unit: str = "",
    maximum: int | None = None,
    axis_label: str = "",
) -> Markup:
    """A horizontal bar chart: one row per category, one bar (grouped) or one segment
    (stacked) per series. ``maximum`` fixes the end of the axis (100 for percentages)."""
    if any(len(s.values) != len(categories) for s in series):
        raise ValueError("every series needs one value per category")
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    largest = max(totals if stacked else [v or 0 for s in series for v in s.values] or [0])
    step = nice_step(max(maximum or largest, 1))
    axis_max = maximum or max(step, -(-largest // step) * step)
    scale = PLOT_WIDTH / axis_max
    row_height = STACK_HEIGHT if stacked else len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    body: list[str] = []
    y = LEGEND_HEIGHT + GROUP_GAP // 2
    for i, category in enumerate(categories):
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + row_height // 2 + 4}" text-anchor="end" '
            f'fill="{TEXT}">{escape(_short(category))}</text>'
        )
        x = float(LABEL_WIDTH)
        for index, serie in enumerate(series):
            value = serie.values[i]
            shown = "—" if value is None else f"{value}{unit}"
            tip = f"{category} – {serie.name} : {shown}"
            width = (value or 0) * scale
            if stacked:
                if value:
                    body.append(_bar(chart_id, index, x, y, width, STACK_HEIGHT, tip))
                x += width
                continue
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            body.append(_bar(chart_id, index, x, bar_y, width, BAR_HEIGHT, tip))
            body.append(
                f'<text class="value" x="{_fmt(x + width + 4)}" y="{bar_y + BAR_HEIGHT - 3}" '
                f'fill="{TEXT}">{escape(shown)}</text>'
            )
        if stacked:
            body.append(
                f'<text class="value" x="{_fmt(x + 4)}" y="{y + STACK_HEIGHT - 6}" '
                f'fill="{TEXT}">{totals[i]}{escape(unit)}</text>'
            )
        y += row_height + GROUP_GAP
    height = y + AXIS_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-size="12" font-family="system-ui, sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f"<defs>{''.join(_patterns(chart_id, len(series)))}</defs>",
        *_legend(chart_id, series),
        *body,
        f'<line x1="{LABEL_WIDTH}" y1="{LEGEND_HEIGHT}" x2="{LABEL_WIDTH}" y2="{y}" '
        f'stroke="{AXIS}"/>',
        *_axis(y, axis_max, step, unit, axis_label),
        "</svg>",
    ]
    # every text put into the parts went through escape(); numbers and ids are ours
    return Markup("".join(parts))  # noqa: S704 - built from escaped parts
