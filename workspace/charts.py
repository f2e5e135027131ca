"""Server-rendered SVG bar charts: no JavaScript, no external assets, scaled by the browser (viewBox).

Each chart is an image (`role="img"` with a title and a description); the page shows the same figures in a
table next to it, which is what screen readers and keyboard users read. Every bar carries its value as
text, so colour is never the only carrier of meaning; the series colours are from the Okabe–Ito palette,
distinguishable with the common colour-vision deficiencies. Labels and names are escaped (`format_html`).
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
MARKER_COLOUR = "#B00020"

_WIDTH = 640
_LABEL_WIDTH = 200
_VALUE_WIDTH = 80
_BAR_HEIGHT = 16
_BAR_GAP = 4
_ROW_GAP = 10
_TOP = 8
_LEGEND_LINE = 20
_AXIS_HEIGHT = 22
_FONT = 12  # px: a wide (CJK) character is about this wide, a narrow one a bit over half

_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per label; None: no bar
    # What to write instead of the value (e.g. "over a year" for a duration beyond the window).
    notes: Sequence[str | None] | None = None


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text_width(text: str) -> float:
    return sum(_FONT if unicodedata.east_asian_width(ch) in "WF" else _FONT * 0.6 for ch in text)


def _truncate(text: str, width: float = _LABEL_WIDTH - 12) -> str:
    if _text_width(text) <= width:
        return text
    while text and _text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _fmt(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}"


def _legend(series: Sequence[Series], marker_label: str | None) -> tuple[list[SafeString], int]:
    """The legend's items, wrapped onto as many lines as the width needs; and its height."""
    items: list[tuple[str, str, bool]] = [
        (one.name, COLOURS[index % len(COLOURS)], False) for index, one in enumerate(series)
    ]
    if marker_label is not None:
        items.append((marker_label, MARKER_COLOUR, True))
    parts, x, line = [], 8.0, 0
    for name, colour, is_marker in items:
        width = 18 + _text_width(name) + 16
        if x > 8 and x + width > _WIDTH:
            x, line = 8.0, line + 1
        y = _TOP + line * _LEGEND_LINE
        swatch = (
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="4 3"/>',
                _n(x),
                y + 6,
                _n(x + 12),
                y + 6,
                colour,
            )
            if is_marker
            else format_html('<rect x="{}" y="{}" width="12" height="12" fill="{}"/>', _n(x), y, colour)
        )
        parts.append(
            format_html('{}<text x="{}" y="{}" class="legend">{}</text>', swatch, _n(x + 18), y + 11, name)
        )
        x += width
    return parts, (line + 1) * _LEGEND_LINE


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    description: str = "",
    percent: bool = False,
    scale_max: float | None = None,
    marker: float | None = None,
    marker_label: str = "",
) -> SafeString:
    """Horizontal bars: one row per label, one bar per series in each row. `percent`: values are shares
    (0–1) on a 0–100% scale. `marker`: a vertical dashed line at that value (a legal limit), labelled in
    the legend."""
    if not labels:
        return mark_safe("")
    chart_id = f"chart-{next(_ids)}"
    per_row = len(series) * _BAR_HEIGHT + (len(series) - 1) * _BAR_GAP
    parts: list[SafeString] = []
    top = _TOP
    if len(series) > 1 or marker is not None:
        legend, legend_height = _legend(series, marker_label if marker is not None else None)
        parts += legend
        top += legend_height
    height = top + len(labels) * (per_row + _ROW_GAP) + _AXIS_HEIGHT
    values = [v for s in series for v in s.values if v is not None]
    top_value = scale_max if scale_max is not None else (1.0 if percent else max([*values, marker or 0, 0]))
    top_value = top_value or 1
    plot = _WIDTH - _LABEL_WIDTH - _VALUE_WIDTH

    def x(value: float) -> float:
        return _LABEL_WIDTH + plot * min(value, top_value) / top_value

    y = top
    for row, label in enumerate(labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="label"><title>{}</title>{}</text>',
                _LABEL_WIDTH - 8,
                _n(y + per_row / 2 + 4),
                label,
                _truncate(label),
            )
        )
        for index, one in enumerate(series):
            value = one.values[row]
            note = one.notes[row] if one.notes is not None else None
            bar_y = y + index * (_BAR_HEIGHT + _BAR_GAP)
            if value is not None and value > 0:
                parts.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                        _LABEL_WIDTH,
                        bar_y,
                        _n(x(value) - _LABEL_WIDTH),
                        _BAR_HEIGHT,
                        COLOURS[index % len(COLOURS)],
                    )
                )
            text = note or _fmt(value, percent) + ("+" if value is not None and value > top_value else "")
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="value">{}</text>',
                    _n((x(value) if value is not None else _LABEL_WIDTH) + 4),
                    bar_y + _BAR_HEIGHT - 3,
                    text,
                )
            )
        y += per_row + _ROW_GAP
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#52606d"/>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#52606d"/>'
            '<text x="{}" y="{}" class="axis">0</text>'
            '<text x="{}" y="{}" text-anchor="end" class="axis">{}</text>',
            _LABEL_WIDTH,
            top - 2,
            _LABEL_WIDTH,
            y,
            _LABEL_WIDTH,
            y,
            _LABEL_WIDTH + plot,
            y,
            _LABEL_WIDTH,
            y + 15,
            _LABEL_WIDTH + plot,
            y + 15,
            _fmt(top_value, percent),
        )
    )
    if marker is not None:
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="4 3"/>',
                _n(x(marker)),
                top - 2,
                _n(x(marker)),
                y,
                MARKER_COLOUR,
            )
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "<style>.label,.value,.legend,.axis{{font-size:12px;fill:#1f2933}}</style>{}</svg>",
        _WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description or title,
        format_html_join("", "{}", ((part,) for part in parts)),
    )
