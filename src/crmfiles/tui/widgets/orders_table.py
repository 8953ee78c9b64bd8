"""The record screen's orders of an opportunity, each followed by its invoices, with
what each comes to and what the highlighted order has left to invoice
(:mod:`crmfiles.documents.totals`).  The keys that act on the row under the cursor
(deliver, invoice, paid, cancel, print, mail) are the screen's
(:mod:`crmfiles.tui.screens.document_actions`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from crmfiles.documents.totals import document_totals, invoiced, left_to_invoice
from crmfiles.money import decimal, fmt
from crmfiles.records.store import Record
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.widgets.record_tables import (
    STATUS_STYLE,
    clip,
    print_bindings,
    refusals,
    row_bindings,
)

Document = tuple[str, str]  # (folder, id)


def opportunity_orders(snapshot: TuiSnapshot, opportunity_id: str) -> list[Record]:
    """The opportunity's orders, oldest first."""
    every = snapshot.records["orders"].values()
    orders = [o for o in every if o.data.get("opportunity") == opportunity_id]
    return sorted(orders, key=lambda o: (str(o.data.get("date") or ""), o.id))


def order_invoices(snapshot: TuiSnapshot, order_id: str) -> list[Record]:
    """An order's invoices, oldest first."""
    invoices = [i for i in snapshot.records["invoices"].values() if i.data.get("order") == order_id]
    return sorted(invoices, key=lambda i: (str(i.data.get("date") or ""), i.id))


def every_invoice(snapshot: TuiSnapshot) -> list[dict[str, object]]:
    return [r.data for r in snapshot.records["invoices"].values()]


class OrdersTable(DataTable[Text]):
    """One row per order (key ``orders/<id>``), its invoices under it (``invoices/<id>``)."""

    DEFAULT_CSS = """
    OrdersTable { height: auto; max-height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "screen.order_deliver",
            "Delivered",
            id="orders.deliver",
            tooltip="The order under the cursor is delivered (on a day, today by default)",
        ),
        Binding(
            "I",
            "screen.invoice_new",
            "Invoice",
            id="orders.invoice",
            tooltip="A new invoice of the order: what it has left, or a part of it",
        ),
        Binding(
            "p",
            "screen.invoice_paid",
            "Paid",
            id="orders.paid",
            tooltip="The invoice under the cursor is paid (on a day, today by default)",
        ),
        Binding(
            "x",
            "screen.document_cancel",
            "Cancel",
            id="orders.cancel",
            tooltip="Cancel the order or the invoice under the cursor",
        ),
        *print_bindings("orders"),
    ]
    BINDINGS += [*refusals(BINDINGS), *row_bindings("orders")]
    # the last date: an open invoice's due day, else the day it was paid or delivered
    COLUMNS = (("Order / invoice", 16), ("Status", 9), ("Date", 10), ("Due / done", 10))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.documents: list[Document] = []

    def fill(self, snapshot: TuiSnapshot, opportunity_id: str) -> None:
        current = self.cursor_document
        self.clear(columns=not self.columns)
        if not self.columns:
            for label, width in self.COLUMNS:
                self.add_column(label, width=width)
            self.add_column("Amount", width=17)
        products = snapshot.catalogs["products"]
        documents: list[Document] = []
        for order in opportunity_orders(snapshot, opportunity_id):
            data = order.data
            totals = document_totals(data, products)
            currency = str(data.get("currency") or snapshot.currency)
            status = str(data.get("status") or "")
            self.add_row(
                Text(clip(order.id, 16), style="bold"),
                Text(status, style=STATUS_STYLE.get(status, "")),
                Text(str(data.get("date") or "")),
                Text(str(data.get("delivered_on") or "")),
                Text(f"{fmt(totals.gross)} {currency}" if totals else "-", justify="right"),
                key=f"orders/{order.id}",
            )
            documents.append(("orders", order.id))
            for invoice in order_invoices(snapshot, order.id):
                inv = invoice.data
                status = str(inv.get("status") or "")
                amount = decimal(inv.get("amount"))
                when = str(inv.get("paid_on") or inv.get("due") or "")
                self.add_row(
                    Text(clip(f" └ {invoice.id}", 16)),
                    Text(status, style=STATUS_STYLE.get(status, "")),
                    Text(str(inv.get("date") or "")),
                    Text(when),
                    Text(
                        f"{fmt(amount)} {inv.get('currency') or currency}" if amount else "-",
                        justify="right",
                    ),
                    key=f"invoices/{invoice.id}",
                )
                documents.append(("invoices", invoice.id))
        self.documents = documents
        if current in documents:
            self.move_cursor(row=documents.index(current), animate=False)

    @property
    def cursor_document(self) -> Document | None:
        """(folder, id) of the order or invoice under the cursor."""
        if not self.documents or not 0 <= self.cursor_row < len(self.documents):
            return None
        return self.documents[self.cursor_row]


def cursor_order(snapshot: TuiSnapshot, document: Document | None) -> Record | None:
    """The order of the row under the cursor: the order itself, or the invoice's."""
    if document is None:
        return None
    folder, record_id = document
    if folder == "invoices":
        invoice = snapshot.records["invoices"].get(record_id)
        record_id = str(invoice.data.get("order")) if invoice else ""
    return snapshot.records["orders"].get(record_id)


def orders_summary(snapshot: TuiSnapshot, document: Document | None) -> Text:
    """The highlighted row's order: its total, what is invoiced, what is left."""
    order = cursor_order(snapshot, document)
    if order is None:
        return Text("No orders yet: a won quote makes one (o).", style="dim")
    data = order.data
    currency = str(data.get("currency") or snapshot.currency)
    totals = document_totals(data, snapshot.catalogs["products"])
    text = Text(f"{order.id}: ", style="bold")
    if totals is None:
        return text.append("no total (a line without a price)", style="yellow")
    invoices = every_invoice(snapshot)
    left = left_to_invoice(data, invoices, snapshot.catalogs["products"])
    text.append(f"total {fmt(totals.gross)} {currency}, ")
    text.append(f"invoiced {fmt(invoiced(order.id, invoices))}, ")
    style = "bold" if left else "green"
    text.append(f"left to invoice {fmt(left)} {currency}", style=style)
    return text
