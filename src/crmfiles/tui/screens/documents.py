"""Quotes, orders and invoices: one list at a time (``t`` switches), filtered by status
(``f``), searched as the other lists, with the totals ``crm list quotes|orders|
invoices`` prints (:func:`crmfiles.reports.lists.item_listing`: the same rows, the same
sums).  Enter opens the document's opportunity on its Documents tab, the cursor on the
document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Header, Input, Static

from crmfiles.folding import fold
from crmfiles.money import Total, fmt
from crmfiles.records.store import Repository
from crmfiles.reports.context import MONEY, Item
from crmfiles.reports.lists import ItemListing, item_listing, schema_enum
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.screens.listing import SearchableList
from crmfiles.tui.widgets.footer import CrmFooter
from crmfiles.tui.widgets.statusbar import StatusBar
from crmfiles.tui.widgets.table import Column, RecordTable

FOLDERS = ("quotes", "orders", "invoices")
KIND = {"quotes": "quote", "orders": "order", "invoices": "invoice"}
COLUMNS: dict[str, list[Column]] = {
    "quotes": [
        Column("id", "Quote", 12, fixed=True, priority=0),
        Column("opportunity_name", "Opportunity", 24, flexible=True, priority=0),
        Column("revision", "Rev", 3, right=True, priority=3),
        Column("status", "Status", 8, priority=0),
        Column("date", "Date", 10, priority=2),
        Column("valid_until", "Valid until", 11, priority=4),
        Column("gross", "Total", 12, right=True, priority=0),
        Column("currency", "Cur", 3, priority=1),
    ],
    "orders": [
        Column("id", "Order", 13, fixed=True, priority=0),
        Column("opportunity_name", "Opportunity", 24, flexible=True, priority=0),
        Column("status", "Status", 9, priority=0),
        Column("date", "Date", 10, priority=2),
        Column("gross", "Total", 12, right=True, priority=0),
        Column("invoiced", "Invoiced", 12, right=True, priority=3),
        Column("currency", "Cur", 3, priority=1),
    ],
    "invoices": [
        Column("id", "Invoice", 13, fixed=True, priority=0),
        Column("partner_name", "Partner", 20, flexible=True, priority=0),
        Column("order", "Order", 13, fixed=True, priority=4),
        Column("status", "Status", 8, priority=0),
        Column("due", "Due", 10, priority=2),
        Column("amount", "Amount", 12, right=True, priority=0),
        Column("open_amount", "Open", 12, right=True, priority=3),
        Column("currency", "Cur", 3, priority=1),
        Column("paid_on", "Paid on", 10, priority=5),
    ],
}


@dataclass
class DocumentRow:
    id: str
    item: Item
    hay: str

    def value(self, column: str) -> Any:
        if column == "opportunity_name":
            return self.item.ctx.name_of("opportunities", self.item.value("opportunity"))
        return self.item.value(column)


def total_line(listing: ItemListing, noun: str, shown: int) -> Text:
    """What ``crm list`` says under a list of documents: how many, their total in the
    base currency (net and tax, or what is still open), or per currency without a rate."""
    text = Text(no_wrap=True, overflow="ellipsis")
    one = noun.removesuffix("s")  # "1 draft quote", "1 open order", "1 paid invoice"
    text.append(f"{shown:,} {one if shown == 1 else noun}", style="bold")
    amount = listing.amount
    if amount is None or not amount.by_currency:
        return text
    if amount.in_base is None:
        per = ", ".join(f"{fmt(v)} {k}" for k, v in sorted(amount.by_currency.items()))
        return text.append(f"   totals per currency: {per} (no rate for some)")

    def base(total: Total) -> str:
        return f"{fmt(total.in_base)} {total.base}"

    text.append(f"   total {base(amount)}", style="bold")
    sums = listing.sums
    if "tax" in sums:
        text.append(f"  (net {base(sums['net'])}, tax {base(sums['tax'])})")
    if "open_amount" in sums:
        text.append(f"  open {base(sums['open_amount'])}", style="bold")
    if amount.converted:
        others = ", ".join(k for k in sorted(amount.by_currency) if k != amount.base)
        text.append(f"  ({others} converted to {amount.base})", style="dim")
    return text


class DocumentsScreen(SearchableList):
    """The table's id is ``documents``; :meth:`current_record` says which folder."""

    FOLDER = "documents"
    HELP_TITLE = "Quotes, orders and invoices"
    PLACEHOLDER = "/ search id, deal, partner"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "next_type",
            "Type",
            id="documents.type",
            tooltip="Quotes, then orders, then invoices",
        ),
        Binding("f", "filter", "Status", id="documents.filter", tooltip="Only one status"),
        Binding(
            "o",
            "open",
            "Open deal",
            id="documents.open",
            tooltip="The document's opportunity, on its Documents tab (also Enter)",
        ),
    ]
    DEFAULT_CSS = """
    DocumentsScreen #totals { height: 1; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder = "quotes"
        self.status = ""
        self._listing: ItemListing | None = None

    @property
    def NOUN(self) -> str:  # type: ignore[override]
        which = f"{self.status} " if self.status else ""
        return f"{which}{self.folder}"

    @property
    def COLUMNS(self) -> Sequence[Column]:  # type: ignore[override]
        return COLUMNS[self.folder]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="toolbar"):
            yield Input(placeholder=self.PLACEHOLDER, id="search")
            yield Static(id="count")
        yield RecordTable(self.cell, dim=self.dim, id=self.FOLDER)
        yield Static(id="totals")
        yield StatusBar()
        yield CrmFooter()

    # --- rows -------------------------------------------------------------------------

    def rows(self, snapshot: TuiSnapshot) -> Sequence[Any]:
        filters = {"status": [self.status]} if self.status else {}
        # the list `crm list` makes, of the records the snapshot holds
        repo = Repository(snapshot.root).holding(snapshot.records)
        listing = item_listing(repo, self.folder, filters, sort=["-date", "-id"])
        self._listing = listing
        out = []
        for item in listing.rows:
            row = DocumentRow(item.record.id, item, "")
            words = (row.id, row.value("opportunity_name"), row.value("partner_name"))
            row.hay = fold(" ".join(str(w) for w in words if w))
            out.append(row)
        return out

    def cell(self, key: str, column: str) -> str:
        row = self.row(key)
        if row is None:
            return ""
        value = row.value(column)
        if value is None:
            return ""
        return fmt(value) if column in MONEY else str(value)

    def dim(self, key: str) -> bool:
        row = self.row(key)
        return bool(row) and row.item.record.data.get("status") in (
            "revised",
            "lost",
            "canceled",
            "paid",
        )

    def show(self, snapshot: TuiSnapshot) -> None:
        memo = (id(snapshot.records), id(snapshot.rows), self.search, self.folder, self.status)
        if memo == self._memo:
            return
        if self._memo[3:4] != (self.folder,):
            self._measured = None  # another type: its columns, measured again
        self._memo = ()
        super().show(snapshot)
        self._memo = memo
        if self._listing is not None:
            shown = self.table.row_count
            self.query_one("#totals", Static).update(total_line(self._listing, self.NOUN, shown))

    def current_record(self) -> tuple[str, str] | None:
        key = self.table.cursor_key
        return (self.folder, key) if key else None

    # --- actions ----------------------------------------------------------------------

    def action_next_type(self) -> None:
        self.folder = FOLDERS[(FOLDERS.index(self.folder) + 1) % len(FOLDERS)]
        self.status = ""
        self.refresh_list()

    def action_filter(self) -> None:
        from crmfiles.tui.screens.dialogs import PickDialog

        statuses = schema_enum(KIND[self.folder], "status")
        choices = [("", "any status"), *((s, s) for s in statuses)]

        def picked(status: str | None) -> None:
            if status is not None:
                self.status = status
                self.refresh_list()

        title = f"{self.folder.title()}: status"
        self.app.push_screen(PickDialog(title, choices, self.status), picked)

    @on(RecordTable.Selected, "#documents")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self.row(self.table.cursor_key)
        if row is None:
            return
        opportunity = row.item.value("opportunity")
        if not opportunity or self.snapshot is None or opportunity not in self.snapshot.rows:
            self.notify(f"{row.id}: its opportunity is not in the work tree", severity="warning")
            return
        self.crm.open_record(str(opportunity), tab="quotes", document=(self.folder, row.id))
