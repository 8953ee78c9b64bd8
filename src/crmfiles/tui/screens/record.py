"""One opportunity, in tabs: General, Parties, Primary demand, Insight, Competitors,
Tasks, History (from git, read in a worker when the tab is first shown)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Static, Tab, Tabs

from crmfiles.money import fmt, lines_total
from crmfiles.records.store import Record
from crmfiles.tui.data import ListRow, Snapshot, listing, mapping
from crmfiles.tui.screens.base import OpportunityActions
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar

TABS = (
    ("general", "General"),
    ("parties", "Parties"),
    ("demand", "Primary demand"),
    ("insight", "Insight"),
    ("competitors", "Competitors"),
    ("tasks", "Tasks"),
    ("history", "History"),
)
INSIGHT = ("problem", "pain", "reasons", "impacts", "capabilities")


def grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column(overflow="fold")
    return table


def opportunity_tasks(snapshot: Snapshot, record_id: str) -> list[Record]:
    tasks = [
        t
        for t in snapshot.records["tasks"].values()
        if isinstance(t.data.get("subject"), dict)
        and t.data["subject"].get("type") == "opportunity"
        and t.data["subject"].get("id") == record_id
    ]
    tasks.sort(key=lambda t: (bool(t.data.get("completed")), str(t.data.get("due") or "")))
    return tasks


class HistoryLoaded(Message):
    def __init__(self, record_id: str, renderable: RenderableType) -> None:
        super().__init__()
        self.record_id = record_id
        self.renderable = renderable


class RecordScreen(OpportunityActions):
    """One screen, kept and pointed at each record opened (``open``): building a
    screen of tabs costs more than the whole budget for opening a record."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="record.back"),
        Binding(
            "right_square_bracket,l", "tab(1)", "Next tab", key_display="]", id="record.next_tab"
        ),
        Binding(
            "left_square_bracket,h", "tab(-1)", "Prev tab", key_display="[", id="record.prev_tab"
        ),
        Binding(
            "b",
            "blame",
            "Blame",
            id="record.blame",
            tooltip="Who last changed each field, when, and what it was before",
        ),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self._history: tuple[str, int, RenderableType] | None = None

    def open(self, record_id: str) -> None:
        """Show another record (the screen is reused)."""
        self.record_id = record_id
        self._history = None
        if self.is_mounted:
            tabs = self.query_one("#tabs", Tabs)
            if tabs.active != "general":
                tabs.active = "general"  # draws it, once the tab is activated
            elif self.snapshot is not None:
                self.show(self.snapshot)

    def current_id(self) -> str | None:
        return self.record_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="record-title")
        yield Tabs(*[Tab(title, id=tab_id) for tab_id, title in TABS], id="tabs")
        with VerticalScroll(id="record-scroll"):
            yield Static(id="record-body", classes="tab-body")
        yield StatusBar()
        yield CrmFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tabs", Tabs).focus()

    def action_back(self) -> None:
        self.dismiss()

    def action_blame(self) -> None:
        from crmfiles.tui.screens.blame import BlameScreen

        self.app.push_screen(BlameScreen(self.crm.root, self.record_id))

    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#tabs", Tabs)
        tabs.action_next_tab() if step > 0 else tabs.action_previous_tab()

    @property
    def tab(self) -> str:
        return self.query_one("#tabs", Tabs).active or "general"

    @on(Tabs.TabActivated, "#tabs")
    def _tab_activated(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    # --- drawing ----------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        title = self.query_one("#record-title", Static)
        body = self.query_one("#record-body", Static)
        row = snapshot.rows.get(self.record_id)
        if row is None:
            title.update(Text(f"{self.record_id}: not in the work tree", style="bold red"))
            body.update("")
            return
        title.update(self._title(snapshot, row), layout=False)
        tab = self.tab
        if tab == "history":
            if self._history is not None and self._history[:2] == (
                self.record_id,
                id(snapshot.rows),
            ):
                body.update(self._history[2])
            else:
                body.update(Text("Reading git history…", style="dim"))
                self.load_history(self.record_id)
            return
        draw = {
            "general": lambda: self._general(snapshot, row),
            "parties": lambda: self._parties(snapshot, row),
            "demand": lambda: self._demand(snapshot, row),
            "insight": lambda: self._insight(row),
            "competitors": lambda: self._competitors(snapshot, row),
            "tasks": lambda: self._tasks(snapshot),
        }[tab]
        body.update(draw())
        self.query_one("#record-scroll", VerticalScroll).scroll_home(animate=False)

    def _title(self, snapshot: Snapshot, row: ListRow) -> Text:
        data = row.data
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {data.get('name', row.id)} ", style="bold reverse")
        stage = snapshot.name("stages", data.get("stage")) if data.get("stage") else "no stage"
        text.append(f"  {stage}", style="bold")
        status = str(data.get("status"))
        style = {"won": "bold green", "lost": "bold red"}.get(status, "")
        text.append(f"  {'open' if status == 'in_progress' else status}", style=style)
        if data.get("closed"):
            text.append("  closed (read-only)", style="dim")
        pending = self.crm.git_state.pending({row.id: None})
        if pending:
            text.append(f"  ⎇ pending on {', '.join(pending[row.id])}", style="yellow")
        if row.record.path in self.crm.git_state.dirty:
            text.append("  ● uncommitted changes", style="yellow")
        text.append(f"   {row.record.path}", style="dim")
        return text

    def _general(self, snapshot: Snapshot, row: ListRow) -> RenderableType:
        data = row.data
        table = grid()
        currency = row.row.currency
        amount = fmt(row.row.amount) + f" {currency}" if row.row.amount is not None else "-"
        if "amount" not in data and row.row.amount is not None:
            amount += "  (sum of the lines)"
        weighted = fmt(row.row.weighted) + f" {currency}" if row.row.weighted is not None else "-"
        days = snapshot.days.get(row.id)
        kind = data.get("kind")
        entries: list[tuple[str, Any]] = [
            ("Kind", f"{snapshot.name('kinds', kind)} ({snapshot.kind_type(kind) or '?'})"),
            ("Stage", snapshot.name("stages", data.get("stage")) or "-"),
            ("Days in stage", "" if days is None else str(days)),
            ("Status", {"in_progress": "open"}.get(str(data.get("status")), data.get("status"))),
            ("Probability", f"{data.get('probability')}%" if "probability" in data else "-"),
            ("Amount", amount),
            ("Weighted", weighted),
            ("Opened", data.get("opened")),
            ("Expected close", data.get("expected_close")),
            ("Closed on", data.get("closed_on")),
            ("Loss reason", snapshot.name("loss-reasons", data.get("loss_reason"))),
            ("Loss comment", data.get("loss_comment")),
            ("Responsible", snapshot.name("people", data.get("responsible"))),
            ("Terms", snapshot.name("terms", data.get("terms"))),
            ("Channel", snapshot.name("channels", data.get("channel"))),
            ("Source", data.get("source")),
            ("Tags", ", ".join(snapshot.name("tags", t) for t in data.get("tags") or [])),
            ("Next milestone", data.get("next_milestone")),
            ("Comment", data.get("comment")),
        ]
        origin = data.get("origin")
        if isinstance(origin, dict):
            entries.append(("Origin", f"{origin.get('type')} {origin.get('id')}"))
        for label, value in entries:
            if value not in (None, ""):
                table.add_row(label, str(value))
        return table

    def _parties(self, snapshot: Snapshot, row: ListRow) -> RenderableType:
        data = row.data
        parts: list[RenderableType] = []
        partner = snapshot.records["partners"].get(str(data.get("partner")))
        head = grid()
        if partner is None:
            head.add_row("Partner", Text(f"{data.get('partner')} (unknown)", style="red"))
        else:
            p = partner.data
            address = mapping(p.get("address"))
            where = ", ".join(
                str(address[k])
                for k in ("street", "postal_code", "city", "country")
                if k in address
            )
            head.add_row(
                "Partner", f"{p.get('name', partner.id)}  ({', '.join(p.get('roles') or [])})"
            )
            for label, value in (
                ("Industry", p.get("industry")),
                ("Address", where),
                ("Phone", p.get("phone")),
                ("Website", p.get("website")),
            ):
                if value:
                    head.add_row(label, str(value))
        head.add_row("Responsible", snapshot.name("people", data.get("responsible")))
        team = [snapshot.name("people", t) for t in data.get("team") or []]
        if team:
            head.add_row("Team", ", ".join(team))
        parts.append(head)
        contacts = Table(title="Contacts", title_justify="left", expand=True)
        for column in ("Name", "Position", "E-mail", "Phone"):
            contacts.add_column(column)
        for cid in data.get("contacts") or []:
            contact = snapshot.records["contacts"].get(str(cid))
            if contact is None:
                contacts.add_row(Text(f"{cid} (unknown)", style="red"), "", "", "")
                continue
            c = contact.data
            contacts.add_row(
                str(c.get("name", cid)),
                str(c.get("position") or ""),
                str(c.get("email") or ""),
                str(c.get("phone") or ""),
            )
        parts.append(Text(""))
        parts.append(contacts)
        return Group(*parts)

    def _demand(self, snapshot: Snapshot, row: ListRow) -> RenderableType:
        data = row.data
        lines = listing(data.get("lines"))
        products = snapshot.catalogs["products"]
        currency = row.row.currency
        table = Table(expand=True)
        for column, right in (
            ("Product", False),
            ("Qty", True),
            ("Unit price", True),
            ("Disc %", True),
            ("Months", True),
            ("Margin %", True),
            ("Line total", True),
        ):
            table.add_column(column, justify="right" if right else "left")
        for line in lines:
            if not isinstance(line, dict):
                continue
            product = products.get(str(line.get("product")), {})
            name = str(product.get("name") or line.get("product") or line.get("description") or "")
            if line.get("description") and line.get("product"):
                name += f" - {line['description']}"
            price = line.get("unit_price", product.get("price"))
            total = lines_total({"lines": [line]}, products)
            table.add_row(
                name,
                str(line.get("quantity", 1)),
                fmt(Decimal(str(price))) if price is not None else "",
                str(line.get("discount") or ""),
                str(line.get("duration_months") or ""),
                str(line.get("margin") or ""),
                fmt(total) if total is not None else "?",
            )
        total = lines_total(data, products)
        summary = grid()
        summary.add_row(
            "Sum of the lines", f"{fmt(total)} {currency}" if total is not None else "-"
        )
        if "amount" in data:
            summary.add_row("Amount (given)", f"{fmt(row.row.amount)} {currency}")
        kind = snapshot.catalogs["kinds"].get(str(data.get("kind")), {})
        if kind.get("record_primary_demand"):
            summary.add_row(
                "", Text("This kind needs lines before leaving its first stage.", style="dim")
            )
        if not lines:
            return Group(Text("No lines yet.", style="dim"), Text(""), summary)
        return Group(table, summary)

    def _insight(self, row: ListRow) -> RenderableType:
        insight = mapping(row.data.get("insight"))
        table = grid()
        for key in INSIGHT:
            table.add_row(key.title(), str(insight.get(key) or "-"))
        return table

    def _competitors(self, snapshot: Snapshot, row: ListRow) -> RenderableType:
        competitors = row.data.get("competitors") or []
        if not competitors:
            return Text("No competitors recorded.", style="dim")
        table = Table(expand=True)
        for column in ("Competitor", "Outcome", "Comment"):
            table.add_column(column)
        for entry in competitors:
            if isinstance(entry, dict):
                table.add_row(
                    snapshot.name("partners", entry.get("partner")),
                    str(entry.get("outcome") or ""),
                    str(entry.get("comment") or ""),
                )
        return table

    def _tasks(self, snapshot: Snapshot) -> RenderableType:
        tasks = opportunity_tasks(snapshot, self.record_id)
        if not tasks:
            return Text("No tasks.", style="dim")
        table = Table(expand=True)
        for column in ("Due", "Task", "Assignee", "Done", "Result"):
            table.add_column(column)
        for task in tasks:
            t = task.data
            table.add_row(
                str(t.get("due") or ""),
                str(t.get("title") or task.id),
                snapshot.name("people", t.get("assignee")),
                "✓" if t.get("completed") else "",
                str(t.get("result") or ""),
                style="dim" if t.get("completed") else "",
            )
        return table

    # --- history ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self, record_id: str) -> None:
        from crmfiles.tui.history import history_table

        self.post_message(HistoryLoaded(record_id, history_table(self.crm.root, record_id)))

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if message.record_id == self.record_id:
            rows = id(self.snapshot.rows) if self.snapshot else 0
            self._history = (message.record_id, rows, message.renderable)
            if self.tab == "history":
                self.query_one("#record-body", Static).update(message.renderable)
