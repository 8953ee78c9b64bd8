"""The partners: each with its open deals and their amount and what it has bought, the
most open business first; Enter opens the partner with its deals (as a CRM's
organization view); duplicates are merged into the partner to keep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType

from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.directory import PartnerRow, money, partner_rows
from crmfiles.tui.rows import listing
from crmfiles.tui.screens.listing import SearchableList
from crmfiles.tui.widgets.table import Column, RecordTable

COLUMNS = [
    Column("name", "Partner", 24, flexible=True, priority=0),
    Column("open", "Open", 4, right=True, priority=0),
    Column("open_amount", "Open amount", 12, right=True, priority=0),
    Column("won", "Won", 3, right=True, priority=2),
    Column("won_amount", "Won amount", 12, right=True, priority=1),
    Column("roles", "Roles", 10, priority=3),
    Column("country", "Ctry", 4, priority=4),
    Column("responsible", "Responsible", 14, priority=5),
]


def partner_cell(snapshot: TuiSnapshot, row: PartnerRow, column: str) -> str:
    data = row.data
    if column == "name":
        return str(data.get("name") or row.id)
    if column == "open":
        return str(row.open) if row.open else ""
    if column == "won":
        return str(row.won) if row.won else ""
    if column == "open_amount":
        return money(row.open_amount) if row.open else ""
    if column == "won_amount":
        return money(row.won_amount) if row.won else ""
    if column == "roles":
        return ", ".join(map(str, listing(data.get("roles"))))
    if column == "responsible":
        return snapshot.name("people", data.get("responsible"))
    return str(data.get(column) or "")


class PartnersScreen(SearchableList):
    FOLDER = "partners"
    NOUN = "partners"
    PLACEHOLDER = "/ search name, country, role, tag"
    COLUMNS: ClassVar[Sequence[Column]] = COLUMNS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="partners.edit", tooltip="Edit the partner"),
        Binding("n", "new", "New", id="partners.new", tooltip="A new partner"),
        Binding(
            "M",
            "merge",
            "Merge",
            id="partners.merge",
            tooltip="Merge this partner (a duplicate) into the one to keep",
        ),
    ]

    def rows(self, snapshot: TuiSnapshot) -> Sequence[Any]:
        return partner_rows(snapshot)

    def cell(self, key: str, column: str) -> str:
        row = self.row(key)
        return partner_cell(self.snapshot, row, column) if row and self.snapshot else ""

    def dim(self, key: str) -> bool:
        row = self.row(key)
        return bool(row and not row.open)

    @on(RecordTable.Selected, "#partners")
    def _open(self, event: RecordTable.Selected) -> None:
        from crmfiles.tui.screens.partner import PartnerScreen

        self.app.push_screen(PartnerScreen(event.key))

    def action_edit(self) -> None:
        from crmfiles.tui.screens.records import open_form

        key = self.table.cursor_key
        if key is not None:
            open_form(self.app, "partners", key)

    def action_new(self) -> None:
        from crmfiles.tui.screens.records import open_form

        preset = {"responsible": self.crm.me} if self.crm.me else {}
        open_form(self.app, "partners", None, **preset)

    def action_merge(self) -> None:
        from crmfiles.tui.screens.merge import MergeDialog

        self.app.push_screen(MergeDialog("partners", drop=self.table.cursor_key))

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        from crmfiles.tui.screens.merge import merge_commands

        return merge_commands(self.app, self.table.cursor_key)
