"""One opportunity, in tabs: General, Parties, Primary demand, Insight, Competitors,
Activities (interactions, tasks and stage changes on one timeline), Documents (its
quotes, orders and invoices, and their steps: :mod:`.document_actions`), History
(from git, read in a worker when a tab first needs it).  Keys make a task or an
interaction about the deal, and set any field as ``crm set`` does."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Header, Static, Tab, Tabs

from crmfiles.reports.timeline import interactions_about, tasks_about, timeline
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import ListRow
from crmfiles.tui.screens import record_tabs
from crmfiles.tui.screens.document_actions import DOCUMENT_ACTIONS, DocumentActions
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.orders_table import OrdersTable
from crmfiles.tui.widgets.record_tables import ActivitiesTable, QuotesTable
from crmfiles.tui.widgets.statusbar import StatusBar

TABS = (
    ("general", "General"),
    ("parties", "Parties"),
    ("demand", "Demand"),  # "Primary demand": too wide for 80 columns with the rest
    ("insight", "Insight"),
    ("competitors", "Competitors"),
    ("activities", "Activities"),
    ("quotes", "Documents"),  # quotes, orders and invoices
    ("history", "History"),
)
TABLES = {"activities": "#activities-table", "quotes": "#quotes-pane"}

if TYPE_CHECKING:
    from crmfiles.history import Event


class HistoryLoaded(Message):
    def __init__(self, record_id: str, events: list[Event] | str) -> None:
        super().__init__()
        self.record_id = record_id
        self.events = events  # or why they could not be read


class RecordScreen(DocumentActions):
    """One screen, kept and pointed at each record opened (``open``): building a
    screen of tabs costs more than the whole budget for opening a record."""

    DEFAULT_CSS = """
    RecordScreen #quotes-pane { height: 1fr; }
    RecordScreen #quotes-summary { height: auto; padding: 0 1 1 1; }
    RecordScreen #orders-summary { height: auto; padding: 0 1; }
    """
    # at 80 columns the footer has room for the everyday keys (t i = e m c) only: the
    # rarer ones (copy, blame, the tabs' ] [) are in `?` and the palette
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", id="record.back"),
        Binding(
            "right_square_bracket,l",
            "tab(1)",
            "Next tab",
            key_display="]",
            show=False,
            id="record.next_tab",
        ),
        Binding(
            "left_square_bracket,h",
            "tab(-1)",
            "Prev tab",
            key_display="[",
            show=False,
            id="record.prev_tab",
        ),
        Binding(
            "d",
            "duplicate",
            "Copy",
            show=False,
            id="record.duplicate",
            tooltip="Duplicate the opportunity",
        ),
        Binding(
            "b",
            "blame",
            "Blame",
            show=False,
            id="record.blame",
            tooltip="Who last changed each field, when, and what it was before",
        ),
        Binding(
            "t",
            "new_task",
            "Task",
            id="record.new_task",
            tooltip="A new task about this deal (yours unless you pick someone)",
        ),
        Binding(
            "i",
            "new_interaction",
            "Log",
            id="record.new_interaction",
            tooltip="Log an interaction (call, meeting...) on this deal",
        ),
        Binding(
            "equals_sign",
            "set_field",
            "Set",
            key_display="=",
            id="record.set_field",
            tooltip="Set any field: field path = value (as crm set)",
        ),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self._history: tuple[str, int, list[Event] | str] | None = None
        self._loading: str | None = None  # the record whose history a worker reads
        self.first_tab = "general"

    def open(
        self, record_id: str, tab: str = "general", document: tuple[str, str] | None = None
    ) -> None:
        """Show another record (the screen is reused), on ``tab``; on the Documents
        tab, the cursor on ``document``."""
        self.record_id = record_id
        self._history = None
        self._loading = None
        self.first_tab = tab
        self.pending_document = document
        self.documents_focus = "quotes"
        if self.is_mounted:
            tabs = self.query_one("#tabs", Tabs)
            if tabs.active != tab:
                tabs.active = tab  # draws it, once the tab is activated
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
        yield ActivitiesTable(id="activities-table")
        with Vertical(id="quotes-pane"):  # not "quotes": the tab has that id
            yield QuotesTable(id="quotes-table")
            yield Static(id="quotes-summary")
            yield OrdersTable(id="orders-table")
            yield Static(id="orders-summary")
        yield StatusBar()
        yield CrmFooter()

    def on_mount(self) -> None:
        super().on_mount()
        tabs = self.query_one("#tabs", Tabs)
        tabs.focus()
        if self.first_tab != tabs.active:
            tabs.active = self.first_tab  # (its table takes the focus then)

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
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id != self.tab:
            return  # (a tab activated before the one the screen was opened on)
        # a tab that is a table takes the keys (j/k, Enter); the others leave them to the
        # tabs (focused first: drawing the Documents tab may put the focus on an order)
        selector = TABLES.get(self.tab)
        if selector == "#quotes-pane":
            selector = f"#{self.documents_focus}-table"
        self.query_one(selector or "#tabs").focus()
        if self.snapshot is not None:
            self.show(self.snapshot)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DOCUMENT_ACTIONS:  # the ones that fit the document under the cursor
            return self.document_allows(action)
        # a closed opportunity is read-only: no field to set (a task or a call still fits)
        return super().check_action("edit" if action == "set_field" else action, parameters)

    def action_new_task(self) -> None:
        self.new_task()

    def action_new_interaction(self) -> None:
        self.log_interaction()

    def action_set_field(self) -> None:
        from crmfiles.tui.screens.setfield import SetFieldDialog

        row = self._need()
        if row is not None:
            self.app.push_screen(SetFieldDialog("opportunities", row.id))

    # --- drawing ----------------------------------------------------------------------

    def show(self, snapshot: TuiSnapshot) -> None:
        title = self.query_one("#record-title", Static)
        body = self.query_one("#record-body", Static)
        row = snapshot.rows.get(self.record_id)
        if row is None:
            title.update(Text(f"{self.record_id}: not in the work tree", style="bold red"))
            body.update("")
            return
        title.update(self._title(snapshot, row), layout=False)
        tab = self.tab
        self.query_one("#record-scroll").display = tab not in TABLES
        for name, selector in TABLES.items():
            self.query_one(selector).display = name == tab
        if tab == "activities":
            self.refresh_activities()
            return
        if tab == "quotes":
            self.refresh_quotes()
            return
        if tab == "history":
            events = self._events(snapshot)
            if events is None:
                body.update(Text("Reading git history…", style="dim"))
            else:
                from crmfiles.tui.history import history_table

                body.update(history_table(events))
            return
        draw = {
            "general": lambda: record_tabs.general(snapshot, row),
            "parties": lambda: record_tabs.parties(snapshot, row),
            "demand": lambda: record_tabs.demand(snapshot, row),
            "insight": lambda: record_tabs.insight(row),
            "competitors": lambda: record_tabs.competitors(snapshot, row),
        }[tab]
        body.update(draw())
        self.query_one("#record-scroll", VerticalScroll).scroll_home(animate=False)

    def _title(self, snapshot: TuiSnapshot, row: ListRow) -> Text:
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

    # --- history ----------------------------------------------------------------------

    def _events(self, snapshot: TuiSnapshot) -> list[Event] | str | None:
        """The record's changes from git (or why they cannot be read); None while they
        are first read.  Read again in a worker once the snapshot changed (a commit),
        the ones read before shown meanwhile."""
        cached = self._history
        stale = cached is None or cached[:2] != (self.record_id, id(snapshot.rows))
        if stale and self._loading != self.record_id:
            self._loading = self.record_id
            self.load_history(self.record_id)
        return cached[2] if cached is not None and cached[0] == self.record_id else None

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self, record_id: str) -> None:
        from crmfiles.tui.history import record_events

        self.post_message(HistoryLoaded(record_id, record_events(self.crm.root, record_id)))

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        self._loading = None
        if message.record_id == self.record_id and self.snapshot is not None:
            self._history = (message.record_id, id(self.snapshot.rows), message.events)
            if self.tab in ("history", "activities"):
                self.show(self.snapshot)

    # --- activities -------------------------------------------------------------------

    def refresh_activities(self) -> None:
        """The Activities tab: the deal's interactions, tasks and stage changes."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        events = self._events(snapshot)
        rid = self.record_id
        activities = timeline(
            interactions_about(snapshot.records["interactions"].values(), "opportunity", rid),
            tasks_about(
                snapshot.records["tasks"].values(), "opportunity", rid, documents(snapshot, rid)
            ),
            events if isinstance(events, list) else (),
            snapshot.name,
        )
        table = self.query_one("#activities-table", ActivitiesTable)
        table.fill(activities)
        if isinstance(events, str):
            table.border_subtitle = events
        elif events is None:
            table.border_subtitle = "reading the stage changes from git…"
        else:
            table.border_subtitle = None

    @on(DataTable.RowSelected, "#activities-table")
    def _activity_selected(self) -> None:
        from crmfiles.tui.screens.records import open_form

        picked = self.query_one("#activities-table", ActivitiesTable).record_at_cursor()
        if picked is not None:
            open_form(self.app, *picked)


def documents(snapshot: TuiSnapshot, opportunity_id: str) -> list[tuple[str, str]]:
    """The deal's quotes, orders and invoices as task subjects: (type, id)."""
    from crmfiles.tui.widgets.orders_table import opportunity_orders, order_invoices
    from crmfiles.tui.widgets.record_tables import opportunity_quotes

    out = [("quote", q.id) for q in opportunity_quotes(snapshot, opportunity_id)]
    for order in opportunity_orders(snapshot, opportunity_id):
        out.append(("order", order.id))
        out += [("invoice", i.id) for i in order_invoices(snapshot, order.id)]
    return out
