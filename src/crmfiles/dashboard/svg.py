"""Bar charts as inline SVG: one row per label, one bar per series in each row, every
bar with a ``<title>`` tooltip.  The lengths are the only thing computed here; the
values and their texts come from the reports' payloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

LABEL_WIDTH = 180
BAR_AREA = 360
VALUE_WIDTH = 140
BAR_HEIGHT = 14
GAP = 10


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # the class that colours it: s1, s2, s3


@dataclass(frozen=True)
class Bar:
    value: Decimal | int | float | None
    text: str  # the value as a person reads it ("12,500.00 EUR", "3")


@dataclass(frozen=True)
class Row:
    label: str
    bars: Sequence[Bar]  # one per series, in the order of the series


def _size(value: Decimal | int | float | None) -> float:
    return float(value) if value is not None and value > 0 else 0.0


def drawable(rows: Sequence[Row]) -> bool:
    """Whether a chart of these rows would draw a bar (all zero or empty: no)."""
    return any(_size(b.value) for r in rows for b in r.bars)


def bar_chart(
    title: str, series: Sequence[Series], rows: Sequence[Row], described_by: str = ""
) -> str:
    """A horizontal grouped bar chart; bars of one chart share one scale.
    ``described_by``: the id of the table with the same figures."""
    largest = max((_size(b.value) for r in rows for b in r.bars), default=0.0)
    row_height = len(series) * BAR_HEIGHT + GAP
    legend = 22 if len(series) > 1 else 0
    height = legend + max(len(rows), 1) * row_height + GAP
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    out = [
        f'<svg class="chart" role="img" aria-describedby="{escape(described_by)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, s in enumerate(series if legend else ()):
        x = LABEL_WIDTH + i * 130
        out.append(
            f'<rect class="{s.css}" x="{x}" y="4" width="12" height="12"/>'
            f'<text x="{x + 16}" y="14">{escape(s.name)}</text>'
        )
    top = legend + GAP // 2
    out.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="{top}" x2="{LABEL_WIDTH}" '
        f'y2="{height - GAP // 2}"/>'
    )
    for n, row in enumerate(rows):
        y = top + n * row_height
        middle = y + len(series) * BAR_HEIGHT / 2 + 4
        out.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{middle:g}" '
            f'text-anchor="end">{escape(_clip(row.label))}</text>'
        )
        for k, (s, b) in enumerate(zip(series, row.bars, strict=True)):
            length = _size(b.value) / largest * BAR_AREA if largest else 0.0
            if length:
                length = max(length, 1.0)
            top_of_bar = y + k * BAR_HEIGHT
            tip = f"{row.label} — {s.name}: {b.text}"
            out.append(
                f'<rect class="{s.css}" x="{LABEL_WIDTH}" y="{top_of_bar}" '
                f'width="{length:.1f}" height="{BAR_HEIGHT - 2}">'
                f"<title>{escape(tip)}</title></rect>"
                f'<text class="value" x="{LABEL_WIDTH + length + 4:.1f}" '
                f'y="{top_of_bar + BAR_HEIGHT - 3}">{escape(b.text)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _clip(label: str, room: int = 26) -> str:
    return label if len(label) <= room else label[: room - 1] + "…"
