"""Horizontal bar charts drawn with block characters (funnel, forecast)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from crmfiles.money import fmt

BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass
class Bar:
    label: str
    value: Decimal
    second: Decimal | None = None  # drawn over the first, e.g. weighted over amount
    note: str = ""


def bar_text(value: Decimal, scale: Decimal, width: int, style: str) -> Text:
    if scale <= 0 or width <= 0:
        return Text("")
    eighths = int((value / scale) * width * 8) if value > 0 else 0
    full, part = divmod(min(eighths, width * 8), 8)
    return Text("█" * full + (BLOCKS[part] if part else ""), style=style)


class BarChart:
    """A Rich renderable: one row per bar, label, bar, figures."""

    def __init__(self, bars: Sequence[Bar], currency: str, title: str = "") -> None:
        self.bars = list(bars)
        self.currency = currency
        self.title = title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        figures = [self._figures(bar) for bar in self.bars]
        label_width = min(max([5, *(len(b.label) for b in self.bars)]), 28)
        figures_width = max([10, *(len(f) for f in figures)])
        width = max(options.max_width - label_width - figures_width - 4, 10)
        scale = max((b.value for b in self.bars), default=Decimal(0))
        table = Table.grid(padding=(0, 1))
        table.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
        table.add_column(width=width, no_wrap=True)
        table.add_column(width=figures_width, no_wrap=True, justify="right")
        for bar, numbers in zip(self.bars, figures, strict=True):
            drawn = bar_text(bar.value, scale, width, "green")
            if bar.second is not None:
                strong = bar_text(bar.second, scale, width, "bold bright_green")
                drawn = strong + drawn[len(strong.plain) :]
            table.add_row(bar.label, drawn, numbers)
        if self.title:
            yield Text(self.title, style="bold")
        yield table

    def _figures(self, bar: Bar) -> str:
        numbers = f"{fmt(bar.value)} {self.currency}"
        if bar.second is not None:
            numbers = f"{fmt(bar.second)} of {numbers}"
        return f"{bar.note}   {numbers}" if bar.note else numbers
