"""Funnel and forecast screens: bar charts of what ``crmfiles.reports`` computes, on a
worker (a report reads every opportunity)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.reports import forecast_bars, funnel_bars
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.widgets.bars import BarChart
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar


class Charted(Message):
    def __init__(self, renderable: RenderableType) -> None:
        super().__init__()
        self.renderable = renderable


class ChartScreen(CrmScreen):
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="chart-scroll"):
            yield Static(id="chart")
        yield StatusBar()
        yield CrmFooter()

    def show(self, snapshot: TuiSnapshot) -> None:
        self.draw(snapshot)

    @work(thread=True, exclusive=True, group="chart", exit_on_error=False)
    def draw(self, snapshot: TuiSnapshot) -> None:
        try:
            renderable = self.chart(snapshot)
        except Exception as exc:  # a report that fails is a message on the screen
            renderable = Text(f"Cannot compute the report: {exc}", style="red")
        self.post_message(Charted(renderable))

    @on(Charted)
    def _charted(self, message: Charted) -> None:
        self.query_one("#chart", Static).update(message.renderable)

    def chart(self, snapshot: TuiSnapshot) -> RenderableType:
        """The report drawn from ``snapshot``; each report screen draws its own."""
        return Text("")


class KindChart(ChartScreen):
    """A report of one opportunity kind at a time; ``t`` shows the next kind."""

    LABEL = ""

    def __init__(self) -> None:
        super().__init__()
        self.kind: str | None = None

    def kinds(self, snapshot: TuiSnapshot) -> list[str]:
        return [k for k, e in snapshot.catalogs["kinds"].items() if e.get("stages")]

    def action_next_kind(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        kinds = self.kinds(snapshot)
        if kinds:
            index = kinds.index(self.kind) if self.kind in kinds else -1
            self._set_kind(kinds[(index + 1) % len(kinds)])

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        snapshot = self.snapshot
        if snapshot is None:
            return []
        return [
            (
                f"{self.LABEL}: {snapshot.name('kinds', k) or 'all kinds'}",
                lambda k=k: self._set_kind(k),
                "",
            )
            for k in self.kinds(snapshot)
        ]

    def _set_kind(self, kind: str) -> None:
        self.kind = kind
        if self.snapshot is not None:
            self.draw(self.snapshot)


class FunnelScreen(KindChart):
    LABEL = "Funnel"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "next_kind", "Kind", id="funnel.kind", tooltip="Next opportunity kind"),
    ]

    def chart(self, snapshot: TuiSnapshot) -> RenderableType:
        if not self.kinds(snapshot):
            return Text("No kind with stages: no funnel.")
        kind, bars, note = funnel_bars(snapshot.repo, self.kind)
        self.kind = kind
        title = Text()
        title.append(f" Funnel: {snapshot.name('kinds', kind)} ", style="bold reverse")
        title.append("   open opportunities by stage; bright: weighted", style="dim")
        title.append("   t: next kind", style="dim")
        return Group(
            title, Text(""), BarChart(bars, snapshot.currency), Text(""), Text(note, style="dim")
        )


class ForecastScreen(ChartScreen):
    def chart(self, snapshot: TuiSnapshot) -> RenderableType:
        bars, note = forecast_bars(snapshot.repo, self.crm.today())
        title = Text()
        title.append(" Forecast ", style="bold reverse")
        title.append("   open opportunities by expected close month; bright: weighted", style="dim")
        return Group(
            title, Text(""), BarChart(bars, snapshot.currency), Text(""), Text(note, style="dim")
        )
