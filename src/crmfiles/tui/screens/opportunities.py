"""The opportunities list, the first screen: a saved view's columns, incremental
search, filters, sort, and the totals of what is shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from crmfiles.money import Total, fmt
from crmfiles.tui.columns import (
    FILTERS,
    LABELS,
    NUMERIC,
    PRIORITY,
    view_columns,
    view_filters,
    view_sort,
)
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.base import OpportunityActions, deal_cell
from crmfiles.tui.selection import Selection
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable

SEARCH_DELAY = 0.12  # seconds of quiet typing before the list filters
# the search text of a big list is made ahead, this many rows at a time with this
# pause between (a slice takes ~10 ms: a key typed meanwhile waits no longer)
SEARCH_SLICE = 2500
SEARCH_PAUSE = 0.005


def money_total(total: Total) -> str:
    if total.in_base is None:
        parts = ", ".join(f"{fmt(v)} {k}" for k, v in sorted(total.by_currency.items()))
        return f"{parts} (no rate for {', '.join(total.missing_rates)})"
    return f"{fmt(total.in_base)} {total.base}"


def totals_line(selection: Selection, everything: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    count = len(selection.rows)
    text.append(f"{count:,}", style="bold")
    text.append(f" of {everything:,} opportunities" if count != everything else " opportunities")
    text.append("   total ")
    text.append(money_total(selection.amount), style="bold")
    text.append("   weighted ")
    text.append(money_total(selection.weighted), style="bold")
    if selection.amount.converted and selection.amount.in_base is not None:
        others = ", ".join(
            k for k in sorted(selection.amount.by_currency) if k != selection.amount.base
        )
        text.append(f"   ({others} converted at catalogs/currencies.yaml rates)", style="dim")
    return text


class OpportunitiesScreen(OpportunityActions):
    AUTO_FOCUS = "#list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/", id="list.search"),
        Binding("f", "filter", "Filter", id="list.filter", tooltip="Stage, status, responsible…"),
        Binding("x", "clear", "Clear", id="list.clear", tooltip="Clear the search and filters"),
        Binding("s", "sort", "Sort", id="list.sort", tooltip="Sort by a column"),
        Binding("v", "next_view", "View", id="list.view", tooltip="Next saved view"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view_index = 0
        self.user_filters: dict[str, list[str]] = {}
        self.sort: list[str] = []
        self.search = ""
        self._timer: Timer | None = None
        self._columns_for: tuple[Any, ...] = ()
        self._pending: dict[str, list[str]] = {}
        self._dirty: set[str] = set()
        self._memo: tuple[Any, ...] = ()
        self._search_ready: TuiSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="toolbar"):
            yield Input(placeholder="/ search name, partner, tag", id="search")
            yield Static(id="filters")
        yield RecordTable(self._cell, self._mark, self._dim, id="list")
        # no loading animation: it would take the CPU from the thread reading the records
        yield Static(" Reading the records…", id="totals")
        yield StatusBar()
        yield CrmFooter()

    # --- data -------------------------------------------------------------------------

    @property
    def table(self) -> RecordTable:
        return self.query_one("#list", RecordTable)

    def _cell(self, key: str, column: str) -> str:
        return deal_cell(self.snapshot, key, column)

    def _mark(self, key: str) -> str:
        snapshot = self.snapshot
        if snapshot is None:
            return ""
        row = snapshot.rows.get(key)
        if row is None:
            return ""
        if key in self._pending:
            return "⎇"
        if row.path in self._dirty:
            return "●"
        return ""

    def _dim(self, key: str) -> bool:
        snapshot = self.snapshot
        row = snapshot.rows.get(key) if snapshot else None
        return bool(row and row.facts.get("status") != "in_progress")

    @property
    def view(self) -> dict[str, Any]:
        views = self.snapshot.views() if self.snapshot else [{}]
        return views[self.view_index % len(views)]

    def filters(self) -> dict[str, list[str]]:
        merged = view_filters(self.view)
        for key, values in self.user_filters.items():
            if values:
                merged[key] = values
        return merged

    def current_id(self) -> str | None:
        return self.table.cursor_key

    def _sort(self) -> tuple[str, ...]:
        return tuple(self.sort or view_sort(self.view) or ["name"])

    def show(self, snapshot: TuiSnapshot) -> None:
        state = self.crm.git_state
        view = self.view
        sort = list(self._sort())
        memo = (
            id(snapshot.rows),
            id(snapshot.days),
            id(state),
            id(view),
            repr(self.filters()),
            self.search,
            tuple(sort),
        )
        if memo == self._memo:
            return  # what changed (other folders read, say) is not on this screen
        self._memo = memo
        self._pending = state.pending(snapshot.rows)
        self._dirty = set(state.dirty)
        table = self.table
        if self.focused is None:
            table.focus()
        columns = view_columns(view)
        selection = snapshot.select(self.filters(), self.search, sort)
        signature = (id(snapshot.catalogs), columns, len(snapshot.rows))
        if signature != self._columns_for:
            self._columns_for = signature
            table.set_columns(
                [
                    Column(
                        c,
                        LABELS.get(c, c.replace("_", " ").title()),
                        8,
                        c in NUMERIC,
                        c == "name",
                        PRIORITY.get(c, 5),
                    )
                    for c in columns
                ]
            )
            table.measure(snapshot.order(tuple(sort)).ids)
        first = sort[0]
        table.sort_column = first.lstrip("+-")
        table.sort_descending = first.startswith("-")
        table.set_rows(selection.keys)
        totals = totals_line(selection, len(snapshot.rows))
        self.query_one("#totals", Static).update(totals, layout=False)
        self._show_filters()
        self._prepare_search(snapshot)

    def _prepare_search(self, snapshot: TuiSnapshot) -> None:
        """Each row's search text and packed amounts (:meth:`TuiSnapshot.prepare`), made
        a slice at a time after the list is drawn and between keys, then the lists the
        shown order searches and sums, so the first search filters at once (at 100,000
        rows this takes most of a second; a search before it is done makes the rest),
        then the facts' other columns (opening a record reads them)."""
        if snapshot is self._search_ready:
            return
        self._search_ready = snapshot
        rows = list(snapshot.rows.values())
        jobs: list[Callable[[], object]] = [
            partial(snapshot.prepare, rows[start : start + SEARCH_SLICE])
            for start in range(0, len(rows), SEARCH_SLICE)
        ]
        jobs.append(lambda: snapshot.order(self._sort()).hays)
        jobs.append(lambda: snapshot.order(self._sort()).packed)
        # the facts a list row does not keep, a column at a time: a record opened
        # whole is held to all of them (its file unchanged since the snapshot)
        table = snapshot.facts_table
        if table is not None:
            jobs.extend(partial(table.values, name) for name in table.fields)

        def step(job: int) -> None:
            if self._search_ready is not snapshot:
                return  # a newer snapshot's rows are being prepared
            jobs[job]()
            if job + 1 < len(jobs):
                self.set_timer(SEARCH_PAUSE, lambda: step(job + 1))

        if len(rows) > SEARCH_SLICE:  # (a small list's are made by its first search)
            # from the frame after the list's: the first screen is not kept waiting
            self.call_after_refresh(lambda: self.set_timer(SEARCH_PAUSE, lambda: step(0)))

    def _show_filters(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" view ", style="reverse")
        text.append(f" {self.view.get('name') or self.view.get('id')} ", style="bold")
        for key, values in self.filters().items():
            text.append(f" {key}=", style="dim")
            text.append(",".join(values))
        self.query_one("#filters", Static).update(text, layout=False)

    def refresh_list(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.crm, "git_state", lambda _: self.refresh_list(), init=False)
        self.table.focus()

    # --- search -----------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.crm.turns.working()  # (a thread reading the other folders waits)
        self._timer = self.set_timer(SEARCH_DELAY, lambda: self._apply_search(event.value))

    def _apply_search(self, value: str) -> None:
        self.crm.turns.working()  # until the list is drawn
        self.search = value
        self.refresh_list()
        self.call_after_refresh(self.crm.turns.done)

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def key_escape(self) -> None:
        # Escape in the search box returns to the list, the search kept (as Enter
        # does); `x` clears it
        if self.query_one("#search", Input).has_focus:
            self.table.focus()

    # --- table events -----------------------------------------------------------------

    @on(RecordTable.Selected, "#list")
    def _open(self, event: RecordTable.Selected) -> None:

        self.crm.open_record(event.key)

    @on(RecordTable.Highlighted, "#list")
    def _highlighted(self) -> None:
        self.current_changed()

    @on(RecordTable.HeaderClicked, "#list")
    def _header(self, event: RecordTable.HeaderClicked) -> None:
        self.sort_by(event.column)

    def sort_by(self, column: str) -> None:
        current = (self.sort or view_sort(self.view) or ["name"])[0]
        if current.lstrip("+-") == column:
            self.sort = [column if current.startswith("-") else f"-{column}"]
        else:
            self.sort = [f"-{column}" if column in NUMERIC else column]
        self.refresh_list()

    # --- actions ----------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear(self) -> None:
        self.user_filters = {}
        self.search = ""
        self.query_one("#search", Input).value = ""
        self.refresh_list()

    def action_next_view(self) -> None:
        self.view_index += 1
        self.sort = []
        self.user_filters = {}
        self._columns_for = ()
        self.refresh_list()
        self.notify(f"View: {self.view.get('name') or self.view.get('id')}", markup=False)

    def set_view(self, index: int) -> None:
        self.view_index = index
        self.sort = []
        self.user_filters = {}
        self._columns_for = ()
        self.refresh_list()

    def action_filter(self) -> None:
        from crmfiles.tui.screens.dialogs import FilterDialog

        def chosen(filters: dict[str, list[str]] | None) -> None:
            if filters is not None:
                self.user_filters = filters
                self.refresh_list()

        if self.snapshot is not None:
            self.app.push_screen(FilterDialog(self.filters()), chosen)

    def action_sort(self) -> None:
        from crmfiles.tui.screens.dialogs import PickDialog

        columns = view_columns(self.view)

        def chosen(column: str | None) -> None:
            if column:
                self.sort_by(column)

        options = [(c, LABELS.get(c, c)) for c in columns]
        self.app.push_screen(PickDialog("Sort by", options), chosen)

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        commands = super().palette_commands()
        views = self.snapshot.views() if self.snapshot else []
        for index, view in enumerate(views):
            name = str(view.get("name") or view.get("id"))
            commands.append(
                (f"View: {name}", lambda i=index: self.set_view(i), f"Switch to the '{name}' view")
            )
        for key in FILTERS:
            commands.append(
                (f"Filter by {key}", self.action_filter, f"Show only some values of {key}")
            )
        return commands
