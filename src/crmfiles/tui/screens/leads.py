"""Leads: qualify one into a partner, a contact and an opportunity, or disqualify it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from crmfiles.tui.columns import sort_key
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.base import CrmScreen
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable

COLUMNS = [
    Column("created", "Created", 10),
    Column("name", "Lead", 30, flexible=True),
    Column("company", "Company", 24),
    Column("contact_name", "Contact", 18),
    Column("status", "Status", 12),
    Column("responsible", "Responsible", 14),
]
OPEN = ("new", "working")


class LeadsScreen(CrmScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="leads.edit", tooltip="Edit the lead"),
        Binding("n", "new", "New", id="leads.new", tooltip="A new lead"),
        Binding(
            "Q",
            "qualify",
            "Qualify",
            id="leads.qualify",
            tooltip="Partner + contact + opportunity from the lead",
        ),
        Binding("D", "disqualify", "Disqualify", id="leads.disqualify"),
        Binding("a", "toggle_all", "All/open", id="leads.all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.everything = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="leads-title")
        yield RecordTable(self._cell, id="leads")
        yield StatusBar()
        yield CrmFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#leads", RecordTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def _cell(self, key: str, column: str) -> str:
        snapshot = self.snapshot
        lead = snapshot.records["leads"].get(key) if snapshot else None
        if snapshot is None or lead is None:
            return ""
        if column == "responsible":
            return snapshot.name("people", lead.data.get("responsible"))
        return str(lead.data.get(column) or "")

    def show(self, snapshot: TuiSnapshot) -> None:
        leads = [
            lead
            for lead in snapshot.records["leads"].values()
            if self.everything or lead.data.get("status") in OPEN
        ]
        leads.sort(key=lambda lead: sort_key(lead.data.get("created")), reverse=True)
        if not self.table.columns:
            self.table.set_columns(COLUMNS)
        self.table.set_rows([lead.id for lead in leads])
        title = Text(no_wrap=True)
        title.append(" Leads ", style="bold reverse")
        title.append(f"  {len(leads)} {'in all' if self.everything else 'open'}", style="dim")
        self.query_one("#leads-title", Static).update(title)

    def _lead(self) -> str | None:
        key = self.table.cursor_key
        snapshot = self.snapshot
        if key is None or snapshot is None:
            return None
        if snapshot.records["leads"][key].data.get("status") not in OPEN:
            self.notify("This lead is already qualified or disqualified", severity="warning")
            return None
        return key

    def action_qualify(self) -> None:
        from crmfiles.tui.screens.actions import QualifyDialog

        key = self._lead()
        if key is not None:
            self.app.push_screen(QualifyDialog(key))

    def action_disqualify(self) -> None:
        from crmfiles.tui.screens.actions import DisqualifyDialog

        key = self._lead()
        if key is not None:
            self.app.push_screen(DisqualifyDialog(key))

    def action_edit(self) -> None:
        from crmfiles.tui.screens.records import open_form

        key = self.table.cursor_key
        if key is not None:
            open_form(self.app, "leads", key)

    def action_new(self) -> None:
        from crmfiles.tui.screens.records import open_form

        preset = {"responsible": self.crm.me} if self.crm.me else {}
        open_form(self.app, "leads", None, **preset)

    def action_toggle_all(self) -> None:
        self.everything = not self.everything
        if self.snapshot is not None:
            self.show(self.snapshot)
