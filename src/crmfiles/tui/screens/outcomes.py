"""Drop-off and win/loss: where deals leave the pipeline and why they are won or lost,
as ``crm report dropoff`` and ``crm report winloss`` compute them (drawn on a worker:
drop-off reads the stage history from git)."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.reports import dropoff_view, winloss_view
from crmfiles.tui.screens.reports import KindChart

ALL = ""  # win/loss of every kind at once


def _title(name: str, explained: str) -> Text:
    """The report's name, what it shows and its key; wrapped at the words on a narrow
    screen, never cut."""
    title = Text()
    title.append(f" {name} ", style="bold reverse")
    title.append(f"   {explained}   t: next kind", style="dim")
    return title


class DropoffScreen(KindChart):
    HELP_TITLE = "Drop-off"
    LABEL = "Drop-off"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "next_kind", "Kind", id="dropoff.kind", tooltip="Next opportunity kind"),
    ]

    def chart(self, snapshot: TuiSnapshot) -> RenderableType:
        from crmfiles.history import load_summary
        from crmfiles.reports.dropoff import SUMMARY_COLUMNS

        if not self.kinds(snapshot):
            return Text("No kind with stages: no drop-off.")
        history = load_summary(snapshot.root, columns=SUMMARY_COLUMNS)  # not the versions
        kind, table = dropoff_view(snapshot.repo, history, self.kind, self.size.width - 4)
        self.kind = kind
        title = _title(
            f"Drop-off: {snapshot.name('kinds', kind)}",
            "how many deals reached each stage, where the lost ones were lost",
        )
        return Group(title, Text(""), table)


class WinLossScreen(KindChart):
    HELP_TITLE = "Win/loss"
    LABEL = "Win/loss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t", "next_kind", "Kind", id="winloss.kind", tooltip="Next opportunity kind, or all"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind = ALL

    def kinds(self, snapshot: TuiSnapshot) -> list[str]:
        return [ALL, *snapshot.catalogs["kinds"]]

    def chart(self, snapshot: TuiSnapshot) -> RenderableType:
        kind = self.kind or None
        which = snapshot.name("kinds", kind) if kind else "all kinds"
        title = _title(f"Win/loss: {which}", "closed deals by loss reason, competitor, person")
        return Group(title, Text(""), winloss_view(snapshot.repo, kind))
