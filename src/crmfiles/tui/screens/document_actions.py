"""The record screen's Documents tab: an opportunity's quotes, and its orders with
their invoices, and the steps of each (``crm quote|order|invoice ...``, print, mail).

The keys are the tables' (:class:`~crmfiles.tui.widgets.record_tables.QuotesTable`,
:class:`~crmfiles.tui.widgets.orders_table.OrdersTable`): they show in the footer
while the table has the focus, those that fit the row under the cursor only (the
lifecycle's :func:`~crmfiles.documents.lifecycle.next_statuses` says which step may
follow).  Each opens a dialog that runs the operation; what the rules refuse shows
in the dialog.  A won quote of an opportunity at its last stage offers to close it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import on
from textual.widgets import DataTable, Static

from crmfiles.documents.lifecycle import next_statuses
from crmfiles.documents.totals import left_to_invoice
from crmfiles.records.store import Record
from crmfiles.tui import ops
from crmfiles.tui.screens.base import OpportunityActions
from crmfiles.tui.widgets.orders_table import (
    Document,
    OrdersTable,
    cursor_order,
    every_invoice,
    orders_summary,
)
from crmfiles.tui.widgets.record_tables import QuotesTable, quote_summary

#: a quote's step -> the status it takes
QUOTE_STEPS = {
    "quote_activate": "active",
    "quote_win": "won",
    "quote_lose": "lost",
    "quote_revise": "revised",
}
DOCUMENT_ACTIONS = frozenset(
    {
        *QUOTE_STEPS,
        "quote_new",
        "order_new",
        "order_deliver",
        "invoice_new",
        "invoice_paid",
        "document_cancel",
        "render_document",
        "mail_document",
    }
)


def created_id(outcome: ops.Outcome, folder: str, but: str | None = None) -> str | None:
    """The id of the document of ``folder`` an operation wrote (other than ``but``)."""
    for path in outcome.paths:
        stem = Path(path).stem
        if path.startswith(f"{folder}/") and stem != but:
            return stem
    return None


class DocumentActions(OpportunityActions):
    """The Documents tab's tables and steps, for the record screen."""

    record_id: str
    pending_document: Document | None = None  # where the cursor goes once drawn
    documents_focus = "quotes"  # the table the tab's cursor was last put in

    # --- the tables -------------------------------------------------------------------

    @property
    def quotes_table(self) -> QuotesTable:
        return self.query_one("#quotes-table", QuotesTable)

    @property
    def orders_table(self) -> OrdersTable:
        return self.query_one("#orders-table", OrdersTable)

    def refresh_quotes(self) -> None:
        """The Documents tab, from the app's snapshot (a step's commit redraws it)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        self.quotes_table.fill(snapshot, self.record_id)
        self.orders_table.fill(snapshot, self.record_id)
        self._quote_highlighted()
        self._order_highlighted()
        if self.pending_document is not None:
            folder, record_id = self.pending_document
            self.pending_document = None
            self.select(folder, record_id)

    @on(DataTable.RowHighlighted, "#quotes-table")
    def _quote_highlighted(self) -> None:
        if self.snapshot is not None:
            summary = quote_summary(self.snapshot, self.quotes_table.cursor_quote)
            self.query_one("#quotes-summary", Static).update(summary)
            self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#orders-table")
    def _order_highlighted(self) -> None:
        if self.snapshot is not None:
            summary = orders_summary(self.snapshot, self.orders_table.cursor_document)
            self.query_one("#orders-summary", Static).update(summary)
            self.refresh_bindings()

    def select(self, folder: str, record_id: str | None) -> None:
        """Put the cursor on a document (the one a step just made)."""
        if record_id is None:
            return
        if folder == "quotes" and record_id in self.quotes_table.quote_ids:
            self.quotes_table.move_cursor(row=self.quotes_table.quote_ids.index(record_id))
            self.documents_focus = "quotes"
            self.quotes_table.focus()
        elif (folder, record_id) in self.orders_table.documents:
            row = self.orders_table.documents.index((folder, record_id))
            self.orders_table.move_cursor(row=row)
            self.documents_focus = "orders"
            self.orders_table.focus()

    # --- what fits the row under the cursor -------------------------------------------

    def _record(self, folder: str, record_id: str | None) -> Record | None:
        snapshot = self.snapshot
        return snapshot.records[folder].get(record_id or "") if snapshot else None

    def cursor_quote(self) -> Record | None:
        return self._record("quotes", self.quotes_table.cursor_quote)

    def cursor_document(self) -> Document | None:
        """The quote, order or invoice under the cursor of the focused table."""
        if self.focused is self.orders_table:
            return self.orders_table.cursor_document
        quote = self.quotes_table.cursor_quote
        return ("quotes", quote) if quote else None

    def _can_become(self, record: Record | None, folder: str, status: str) -> bool:
        if record is None:
            return False
        return status in next_statuses(folder, str(record.data.get("status")))

    def _left(self, order: Record) -> Any:
        snapshot = self.snapshot
        assert snapshot is not None
        return left_to_invoice(order.data, every_invoice(snapshot), snapshot.catalogs["products"])

    def document_allows(self, action: str) -> bool:
        snapshot = self.snapshot
        if snapshot is None:
            return False
        if action == "quote_new":
            row = snapshot.rows.get(self.record_id)
            return row is not None and row.data.get("status") == "in_progress"
        if action in QUOTE_STEPS:
            return self._can_become(self.cursor_quote(), "quotes", QUOTE_STEPS[action])
        if action == "order_new":
            quote = self.cursor_quote()
            return quote is not None and quote.data.get("status") == "won"
        if action in ("render_document", "mail_document"):
            return self.cursor_document() is not None
        document = self.orders_table.cursor_document
        if document is None:
            return False
        folder, record_id = document
        record = self._record(folder, record_id)
        if action == "order_deliver":
            return folder == "orders" and self._can_become(record, folder, "delivered")
        if action == "invoice_paid":
            return folder == "invoices" and self._can_become(record, folder, "paid")
        if action == "document_cancel":
            return self._can_become(record, folder, "canceled")
        if action == "invoice_new":
            from crmfiles.ops.invoices import BILLABLE

            order = cursor_order(snapshot, document)
            if order is None or order.data.get("status") not in BILLABLE:
                return False
            left = self._left(order)
            return left is not None and left > 0
        return False

    def action_document_refused(self, action: str) -> None:
        """A step key whose step does not fit the row: a notice that says why."""
        self.notify(self.refusal(action), severity="warning", markup=False)

    def refusal(self, action: str) -> str:
        if action == "quote_new":
            return "The opportunity is closed: no new quote (reopen it first, r)"
        if action in QUOTE_STEPS or action == "order_new":
            quote = self.cursor_quote()
            if quote is None:
                return "No quote here: N makes one from the opportunity"
            status = str(quote.data.get("status"))
            if status == "draft" and action in ("quote_win", "order_new"):
                return f"{quote.id} is a draft: activate it first (a)"
            if action == "order_new":
                return f"{quote.id} is {status}: an order is made from a won quote"
            step = QUOTE_STEPS[action]
            return f"{quote.id} is {status}: it cannot become {step}"
        document = self.cursor_document()
        if document is None:
            return "No document here"
        folder, record_id = document
        record = self._record(folder, record_id)
        status = str(record.data.get("status")) if record else "gone"
        if action == "order_deliver" and folder != "orders":
            return f"{record_id} is an invoice: put the cursor on its order to deliver it"
        if action == "invoice_paid" and folder != "invoices":
            return f"{record_id} is an order: put the cursor on one of its invoices"
        order = cursor_order(self.snapshot, document) if self.snapshot else None
        if action == "invoice_new" and order is not None:
            if order.data.get("status") in ("open", "delivered"):
                return f"{order.id} is invoiced in full: nothing is left to invoice"
            return f"{order.id} is {order.data.get('status')}: it cannot be invoiced"
        what = {
            "order_deliver": "delivered",
            "invoice_paid": "paid",
            "document_cancel": "canceled",
            "invoice_new": "invoiced",
        }.get(action, action)
        return f"{record_id} is {status}: it cannot be {what}"

    # --- the steps --------------------------------------------------------------------

    def _step(self, dialog: Any, then: Any = None) -> None:
        def done(outcome: ops.Outcome | None) -> None:
            if outcome is not None and outcome.ok and then is not None:
                then(outcome)

        self.app.push_screen(dialog, done)

    def _quote_step(self, title: str, text: str, ok: str, operation: str, then: Any = None) -> None:
        from crmfiles.tui.screens.document_dialogs import StepDialog

        quote = self.cursor_quote()
        if quote is None:
            return
        qid = quote.id
        label = f"{ok} {qid}"
        shown = text.format(q=f"[b]{escape(qid)}[/b]")
        self._step(StepDialog(title, shown, ok, label, operation, qid), then)

    def action_quote_new(self) -> None:
        from crmfiles.tui.screens.document_dialogs import StepDialog

        row = self.current()
        if row is None:
            return
        name = escape(str(row.data.get("name") or row.id))
        text = (
            f"A draft quote of [b]{name}[/b]: its lines, partner, contacts, currency "
            "and terms, valid for the days crm.yaml says (30 by default)."
        )
        dialog = StepDialog("New quote", text, "Create", f"Quote {row.id}", "quote_new", row.id)
        self._step(dialog, lambda o: self.select("quotes", created_id(o, "quotes")))

    def action_quote_activate(self) -> None:
        self._quote_step(
            "Activate quote",
            "{q} is sent to the customer: active, and read-only from now on "
            "(a change is a new revision).",
            "Activate",
            "quote_activate",
        )

    def action_quote_win(self) -> None:
        quote = self.cursor_quote()
        self._quote_step(
            "Quote won",
            "The customer accepted {q}.",
            "Win",
            "quote_win",
            lambda _: self.offer_close(quote.id if quote else ""),
        )

    def action_quote_revise(self) -> None:
        quote = self.cursor_quote()
        old = quote.id if quote else None
        self._quote_step(
            "Revise quote",
            "The next revision of {q}: a new draft with its lines, pointing at it; "
            "{q} becomes revised.",
            "Revise",
            "quote_revise",
            lambda o: self.select("quotes", created_id(o, "quotes", but=old)),
        )

    def action_quote_lose(self) -> None:
        from crmfiles.tui.screens.document_dialogs import LoseQuoteDialog

        quote = self.cursor_quote()
        if quote is not None:
            self._step(LoseQuoteDialog(quote.id))

    def action_order_new(self) -> None:
        self._quote_step(
            "New order",
            "An open order from the won quote {q}, carrying its lines and totals.",
            "Order",
            "order_new",
            lambda o: self.select("orders", created_id(o, "orders")),
        )

    def offer_close(self, quote_id: str) -> None:
        """After a won quote: close the opportunity as won, when it is at its last
        stage (otherwise the notice of the win says which moves come first)."""
        from crmfiles.ops.quotes import ready_to_close
        from crmfiles.tui.screens.document_dialogs import CloseWonOffer

        row = self.current()
        snapshot = self.snapshot
        if row is None or snapshot is None or row.data.get("status") != "in_progress":
            return
        kind = snapshot.catalogs["kinds"].get(str(row.data.get("kind"))) or {}
        if ready_to_close(kind, row.data.get("stage")):
            self.app.push_screen(CloseWonOffer(row.id, quote_id))

    def action_order_deliver(self) -> None:
        from crmfiles.tui.screens.document_dialogs import DayDialog

        document = self.orders_table.cursor_document
        if document is None or document[0] != "orders":
            return
        oid = escape(document[1])
        text = f"[b]{oid}[/b] is delivered to the customer."
        dialog = DayDialog(
            "Order delivered", text, "Delivered", f"Deliver {oid}", "order_deliver", document[1]
        )
        self._step(dialog)

    def action_invoice_new(self) -> None:
        from crmfiles.tui.screens.document_dialogs import InvoiceDialog

        snapshot = self.snapshot
        order = cursor_order(snapshot, self.orders_table.cursor_document) if snapshot else None
        if order is None or snapshot is None:
            return
        left = self._left(order)
        if left is None:
            return
        currency = str(order.data.get("currency") or snapshot.currency)
        self._step(
            InvoiceDialog(order.id, left, currency),
            lambda o: self.select("invoices", created_id(o, "invoices")),
        )

    def action_invoice_paid(self) -> None:
        from crmfiles.tui.screens.document_dialogs import DayDialog

        document = self.orders_table.cursor_document
        if document is None or document[0] != "invoices":
            return
        iid = document[1]
        text = f"The customer paid [b]{escape(iid)}[/b]."
        self._step(DayDialog("Invoice paid", text, "Paid", f"Paid {iid}", "invoice_paid", iid))

    def action_document_cancel(self) -> None:
        from crmfiles.tui.screens.document_dialogs import StepDialog

        document = self.orders_table.cursor_document
        if document is None:
            return
        folder, record_id = document
        noun = "order" if folder == "orders" else "invoice"
        after = (
            "an order with open or paid invoices is not canceled: cancel its open ones first"
            if folder == "orders"
            else "its amount no longer counts against its order"
        )
        text = f"Cancel [b]{escape(record_id)}[/b]? {after.capitalize()}."
        operation = f"{noun}_cancel"
        ok = f"Cancel {noun}"
        self._step(StepDialog(ok, text, ok, f"Cancel {record_id}", operation, record_id))

    def action_render_document(self) -> None:
        from crmfiles.tui.screens.print_dialogs import RenderDialog

        document = self.cursor_document()
        if document is not None:
            self.app.push_screen(RenderDialog(*document))

    def action_mail_document(self) -> None:
        from crmfiles.tui.screens.print_dialogs import MailDialog

        document = self.cursor_document()
        if document is not None:
            self.app.push_screen(MailDialog(*document))
