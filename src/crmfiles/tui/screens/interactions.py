"""Every interaction (call, meeting, e-mail, visit...), newest first: when, what kind,
with which partner, about which deal, who on our side, the subject.  Enter opens the
interaction's form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.directory import interaction_rows
from crmfiles.tui.screens.listing import SearchableList
from crmfiles.tui.widgets.table import Column, RecordTable

COLUMNS = [
    Column("at", "Date", 10, priority=0),
    Column("type", "Type", 7, priority=1),
    Column("partner", "Partner", 20, priority=2),
    Column("opportunity", "Opportunity", 22, priority=3),
    Column("responsible", "Who", 14, priority=4),
    Column("subject", "Subject", 24, flexible=True, priority=0),
]
NAMES = {"partner": "partners", "opportunity": "opportunities", "responsible": "people"}


class InteractionsScreen(SearchableList):
    FOLDER = "interactions"
    NOUN = "interactions"
    PLACEHOLDER = "/ search subject, partner, deal, who"
    COLUMNS: ClassVar[Sequence[Column]] = COLUMNS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="interactions.edit", tooltip="Edit the interaction"),
        Binding(
            "n",
            "new",
            "New",
            id="interactions.new",
            tooltip="Log a new interaction (call, meeting…)",
        ),
    ]

    def rows(self, snapshot: TuiSnapshot) -> Sequence[Any]:
        return interaction_rows(snapshot)

    def cell(self, key: str, column: str) -> str:
        row = self.row(key)
        snapshot = self.snapshot
        if row is None or snapshot is None:
            return ""
        data = row.data
        if column == "at":
            return row.at[:10]  # the day; the form shows the time
        if column in NAMES:
            return snapshot.name(NAMES[column], data.get(column))
        if column == "subject":
            return " ".join(str(data.get("subject") or data.get("summary") or "").split())
        return str(data.get(column) or "")

    @on(RecordTable.Selected, "#interactions")
    def _open(self, event: RecordTable.Selected) -> None:
        self.action_edit()

    def action_edit(self) -> None:
        from crmfiles.tui.screens.records import open_form

        key = self.table.cursor_key
        if key is not None:
            open_form(self.app, "interactions", key)

    def action_new(self) -> None:
        from crmfiles.tui.screens.records import open_form

        preset = {"responsible": self.crm.me} if self.crm.me else {}
        open_form(self.app, "interactions", None, **preset)
