"""The record screen's two tables: Activities (interactions, tasks and stage changes on
one timeline, :mod:`crmfiles.reports.timeline`) and Quotes (the opportunity's quotes
with their totals, :mod:`crmfiles.documents.totals`).

A handful of rows each, so Textual's DataTable (a row cursor, Enter to select).  Every
cell is a :class:`~rich.text.Text`: a DataTable reads a plain string as markup, and a
record's values are never markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from crmfiles.documents.totals import document_totals
from crmfiles.money import fmt
from crmfiles.records.store import Record
from crmfiles.reports.timeline import Activity
from crmfiles.tui.data import TuiSnapshot

KIND_STYLE = {
    "won": "bold green",
    "lost": "bold red",
    "deleted": "red",
    "moved": "bold",
    "reopened": "yellow",
    "task": "cyan",
    "done": "dim",
}
STATUS_STYLE = {
    "active": "bold",
    "won": "green",
    "lost": "red",
    "revised": "dim",
    "delivered": "green",
    "paid": "green",
    "canceled": "dim",
}


def print_bindings(table: str) -> list[BindingType]:
    """Print and mail the document under the cursor: the same keys on both tables."""
    return [
        Binding(
            "P",
            "screen.render_document",
            "Print",
            id=f"{table}.render",
            tooltip="Render the document under the cursor to a file: HTML, Markdown or PDF",
        ),
        Binding(
            "M",
            "screen.mail_document",
            "Mail",
            id=f"{table}.mail",
            tooltip="Mail the document under the cursor: write a .eml, or send it (SMTP)",
        ),
    ]


def refusals(bindings: list[BindingType]) -> list[BindingType]:
    """For each step key, a hidden second binding that says why the step does not fit
    the row under the cursor (the first is hidden and skipped then), not silence."""
    return [
        Binding(
            b.key,
            f"screen.document_refused('{b.action.removeprefix('screen.')}')",
            show=False,
            id=f"{b.id}.refused",
            tooltip=f"Why {b.description} does not fit the row under the cursor",
        )
        for b in bindings
        if isinstance(b, Binding)
    ]


def row_bindings(table: str) -> list[BindingType]:
    """j and k move the row cursor, as on every list (:class:`RecordTable`)."""
    return [
        Binding("j", "cursor_down", "Down", show=False, id=f"{table}.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id=f"{table}.up", tooltip="Previous row"),
    ]


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in '…' when cut."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += cell_len(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


class ActivitiesTable(DataTable[Text]):
    """Newest first; a row that is an interaction or a task has the key
    ``folder/id`` (Enter opens its form), a change from history ``change-<n>``."""

    DEFAULT_CSS = """
    ActivitiesTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = row_bindings("activities")
    COLUMNS = (("When", 16), ("Kind", 11), ("Who", 14))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.activities: list[Activity] = []

    def fill(self, activities: list[Activity]) -> None:
        self.activities = activities
        self._draw()

    def on_resize(self) -> None:
        if self.activities:
            self._draw()

    def _draw(self) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        # the summary gets what the fixed columns leave (2 cells of padding each)
        room = max(20, self.size.width - sum(w + 2 for _, w in self.COLUMNS) - 3)
        for label, width in self.COLUMNS:
            self.add_column(label, width=width)
        self.add_column("Summary", width=room)
        for n, activity in enumerate(self.activities):
            key = f"{activity.folder}/{activity.record_id}" if activity.folder else f"change-{n}"
            style = KIND_STYLE.get(activity.kind, "")
            self.add_row(
                Text(activity.when, style="dim" if activity.kind == "done" else ""),
                Text(clip(activity.label, 11), style=style),
                Text(clip(activity.who, 14)),
                Text(clip(activity.summary, room), style="dim" if activity.kind == "done" else ""),
                key=key,
            )
        if self.activities:
            self.move_cursor(row=min(row, len(self.activities) - 1), animate=False)

    def record_at_cursor(self) -> tuple[str, str] | None:
        """(folder, id) of the record under the cursor, None on a change from history."""
        if not self.activities or not 0 <= self.cursor_row < len(self.activities):
            return None
        activity = self.activities[self.cursor_row]
        if activity.folder is None or activity.record_id is None:
            return None
        return activity.folder, activity.record_id


def opportunity_quotes(snapshot: TuiSnapshot, opportunity_id: str) -> list[Record]:
    """The quotes of an opportunity, newest revision first."""
    every = snapshot.records["quotes"].values()
    quotes = [q for q in every if q.data.get("opportunity") == opportunity_id]
    quotes.sort(key=lambda q: (_revision(q), str(q.data.get("date") or ""), q.id), reverse=True)
    return quotes


def _revision(quote: Record) -> int:
    value = quote.data.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class QuotesTable(DataTable[Text]):
    """One row per quote, keyed by the quote's id (``cursor_quote``): the place the
    quote actions (create, activate, win, revise...) act on."""

    DEFAULT_CSS = """
    QuotesTable { height: auto; max-height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "N",
            "screen.quote_new",
            "New quote",
            id="quotes.new",
            tooltip="A draft quote from the opportunity: its lines, partner, contacts, terms",
        ),
        Binding(
            "a",
            "screen.quote_activate",
            "Activate",
            id="quotes.activate",
            tooltip="The quote is sent: active, read-only from now on",
        ),
        Binding(
            "w",
            "screen.quote_win",
            "Win",
            id="quotes.win",
            tooltip="The customer accepted the quote (offers to close the deal as won)",
        ),
        Binding(
            "x",
            "screen.quote_lose",
            "Lose",
            id="quotes.lose",
            tooltip="The customer declined the quote (with a reason)",
        ),
        Binding(
            "v",
            "screen.quote_revise",
            "Revise",
            id="quotes.revise",
            tooltip="The next revision: a new draft with these lines; this one is revised",
        ),
        Binding(
            "o",
            "screen.order_new",
            "Order",
            id="quotes.order",
            tooltip="An open order from the won quote, carrying its lines",
        ),
        *print_bindings("quotes"),
    ]
    BINDINGS += [*refusals(BINDINGS), *row_bindings("quotes")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.quote_ids: list[str] = []

    def fill(self, snapshot: TuiSnapshot, opportunity_id: str) -> None:
        quotes = opportunity_quotes(snapshot, opportunity_id)
        current = self.cursor_quote
        self.clear(columns=not self.columns)
        if not self.columns:
            for label, width in (
                ("Quote", 12),
                ("Rev", 3),
                ("Status", 7),
                ("Date", 10),
                ("Valid until", 11),
                ("Total", 18),
            ):
                self.add_column(label, width=width, key=label.lower())
        products = snapshot.catalogs["products"]
        for quote in quotes:
            data = quote.data
            totals = document_totals(data, products)
            currency = str(data.get("currency") or snapshot.currency)
            total = f"{fmt(totals.gross)} {currency}" if totals is not None else "-"
            status = str(data.get("status") or "")
            self.add_row(
                Text(clip(quote.id, 12)),
                Text(str(data.get("revision") or ""), justify="right"),
                Text(status, style=STATUS_STYLE.get(status, "")),
                Text(str(data.get("date") or "")),
                Text(str(data.get("valid_until") or "")),
                Text(total, justify="right"),
                key=quote.id,
            )
        self.quote_ids = [q.id for q in quotes]
        if current in self.quote_ids:
            self.move_cursor(row=self.quote_ids.index(current), animate=False)

    @property
    def cursor_quote(self) -> str | None:
        """The id of the quote under the cursor."""
        if not self.quote_ids or not 0 <= self.cursor_row < len(self.quote_ids):
            return None
        return self.quote_ids[self.cursor_row]


def quote_summary(snapshot: TuiSnapshot, quote_id: str | None) -> Text:
    """The highlighted quote's net, tax and total, under the table."""
    quote = snapshot.records["quotes"].get(quote_id or "")
    if quote is None:
        return Text("No quotes yet.", style="dim")
    data = quote.data
    totals = document_totals(data, snapshot.catalogs["products"])
    currency = str(data.get("currency") or snapshot.currency)
    text = Text(f"{quote.id}: ", style="bold")
    lines = data.get("lines")
    count = len(lines) if isinstance(lines, list) else 0
    text.append(f"{count} line{'s' if count != 1 else ''}")
    if totals is None:
        text.append(", no total (a line without a price)", style="yellow")
    else:
        text.append(f", net {fmt(totals.net)} + tax {fmt(totals.tax)}")
        text.append(f" = {fmt(totals.gross)} {currency}", style="bold")
    if data.get("previous"):
        text.append(f"  (revises {data['previous']})", style="dim")
    return text
