"""One partner, as a CRM's organization view: its details and contacts above, its
deals below (open ones first); Enter opens a deal's record screen."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from crmfiles.tui.columns import LABELS, NUMERIC, PRIORITY
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.directory import contacts_of, deals_of, money, partner_rows
from crmfiles.tui.rows import listing
from crmfiles.tui.screens.base import CrmScreen, deal_cell
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable

# what a salesperson looks for first comes first (the panel scrolls on a small screen)
SHOWN = ("roles", "responsible", "contacts", "phone", "email", "country", "industry",
         "website", "legal_name", "vat_id", "parent", "tags", "comment")  # fmt: skip
DEAL_COLUMNS = ("name", "stage", "status", "amount", "currency", "probability", "expected_close")


class PartnerScreen(CrmScreen):
    HELP_TITLE = "Partner"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="partner.back"),
        Binding("e", "edit", "Edit", id="partner.edit", tooltip="Edit the partner"),
        Binding(
            "i",
            "log",
            "Log",
            id="partner.log",
            tooltip="Log an interaction (call, meeting…) with this partner",
        ),
        Binding("t", "task", "Task", id="partner.task", tooltip="A new task about this partner"),
        Binding(
            "M",
            "merge",
            "Merge",
            id="partner.merge",
            tooltip="This partner is a duplicate: merge it into the one to keep",
        ),
    ]
    DEFAULT_CSS = """
    PartnerScreen #partner-title, PartnerScreen #deals-title { height: 1; padding: 0 1; }
    PartnerScreen #deals-title { background: $panel; }
    PartnerScreen #partner-scroll { height: auto; max-height: 40%; }
    PartnerScreen #partner-body { padding: 0 2; }
    """

    def __init__(self, partner_id: str) -> None:
        super().__init__()
        self.partner_id = partner_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="partner-title")
        with VerticalScroll(id="partner-scroll"):
            yield Static(id="partner-body")
        yield Static(id="deals-title")
        yield RecordTable(self._cell, dim=self._dim, id="deals")
        yield StatusBar()
        yield CrmFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#deals", RecordTable).focus()

    def current_record(self) -> tuple[str, str] | None:
        return ("partners", self.partner_id)

    # --- drawing --------------------------------------------------------------------

    def _cell(self, key: str, column: str) -> str:
        return deal_cell(self.snapshot, key, column)

    def _dim(self, key: str) -> bool:
        snapshot = self.snapshot
        row = snapshot.rows.get(key) if snapshot else None
        return bool(row and row.facts.get("status") != "in_progress")

    def show(self, snapshot: TuiSnapshot) -> None:
        record = snapshot.records["partners"].get(self.partner_id)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(" Partner ", style="bold reverse")
        if record is None:
            title.append(f"  {self.partner_id} is gone (merged or removed)", style="yellow")
            self.query_one("#partner-title", Static).update(title)
            self.query_one("#partner-body", Static).update("")
            self.query_one("#deals", RecordTable).set_rows([])
            return
        data = record.data
        title.append(f" {data.get('name') or self.partner_id}", style="bold")
        title.append(f"   {record.path}", style="dim")
        self.query_one("#partner-title", Static).update(title)
        self.query_one("#partner-body", Static).update(self._details(snapshot, data))
        table = self.query_one("#deals", RecordTable)
        if not table.columns:
            table.set_columns(
                [
                    Column(c, LABELS.get(c, c), 8, c in NUMERIC, c == "name", PRIORITY.get(c, 5))
                    for c in DEAL_COLUMNS
                ]
            )
        deals = deals_of(snapshot, self.partner_id)
        table.measure([d.id for d in deals])
        table.set_rows([d.id for d in deals])
        self.query_one("#deals-title", Static).update(self._deals_title(snapshot))

    def _details(self, snapshot: TuiSnapshot, data: dict[str, Any]) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        names = {"responsible": "people", "parent": "partners", "tags": "tags"}
        for key in SHOWN:
            if key == "contacts":
                self._contacts(snapshot, grid)
                continue
            value = data.get(key)
            if value is None or value == "" or value == []:
                continue
            values = listing(value) or [value]
            folder = names.get(key)
            shown = ", ".join(snapshot.name(folder, v) if folder else str(v) for v in values)
            grid.add_row(key.replace("_", " ").capitalize(), Text(shown))
        return grid

    def _contacts(self, snapshot: TuiSnapshot, grid: Table) -> None:
        contacts = contacts_of(snapshot, self.partner_id)
        if contacts:
            people = [
                str(c.data.get("name") or c.id)
                + (f" ({c.data['position']})" if c.data.get("position") else "")
                for c in contacts
            ]
            grid.add_row("Contacts", Text(", ".join(people)))

    def _deals_title(self, snapshot: TuiSnapshot) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Deals", style="bold")
        row = next((r for r in partner_rows(snapshot) if r.id == self.partner_id), None)
        if row is not None:
            for count, total, what in ((row.open, row.open_amount, "open"),
                                       (row.won, row.won_amount, "won")):  # fmt: skip
                text.append(f"   {count} {what}", style="bold" if count else "dim")
                if money(total):
                    text.append(f" ({money(total)} {snapshot.currency})")
        text.append("   enter: open a deal", style="dim")
        return text

    # --- actions --------------------------------------------------------------------

    @on(RecordTable.Selected, "#deals")
    def _open(self, event: RecordTable.Selected) -> None:
        self.crm.open_record(event.key)

    def _here(self) -> bool:
        snapshot = self.snapshot
        if snapshot is None or self.partner_id not in snapshot.records["partners"]:
            self.notify("This partner is gone (merged or removed)", severity="warning")
            return False
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_edit(self) -> None:
        from crmfiles.tui.screens.records import open_form

        if self._here():
            open_form(self.app, "partners", self.partner_id)

    def action_log(self) -> None:
        from crmfiles.tui.screens.records import open_form

        if self._here():
            preset: dict[str, Any] = {"partner": self.partner_id}
            if self.crm.me:
                preset["responsible"] = self.crm.me
            open_form(self.app, "interactions", None, **preset)

    def action_task(self) -> None:
        from crmfiles.tui.screens.records import open_form

        if self._here():
            preset: dict[str, Any] = {"subject": {"type": "partner", "id": self.partner_id}}
            if self.crm.me:
                preset["assignee"] = self.crm.me
            open_form(self.app, "tasks", None, **preset)

    def action_merge(self) -> None:
        from crmfiles.tui.screens.merge import MergeDialog

        if not self._here():
            return

        def merged(outcome: Any) -> None:
            # the duplicate is gone: show the partner it was merged into
            if outcome is not None and outcome.ok:
                self.partner_id = dialog.keep or self.partner_id
                if self.snapshot is not None:
                    self.show(self.snapshot)

        dialog = MergeDialog("partners", drop=self.partner_id)
        self.app.push_screen(dialog, merged)

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        from crmfiles.tui.screens.merge import merge_commands

        return merge_commands(self.app, self.partner_id, self.action_merge)
