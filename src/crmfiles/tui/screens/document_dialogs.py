"""The dialogs of the sales documents' steps: each says what the step does, asks what
its operation needs (a reason, an amount, a day) and runs it (``crm quote|order|
invoice ...``), or shows the rule's message when the operation is refused.  After a
won quote, :class:`CloseWonOffer` offers to close the opportunity as won."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rich.markup import escape
from textual.widget import Widget
from textual.widgets import Input, Static

from crmfiles.money import decimal, fmt, to_cent
from crmfiles.tui import ops
from crmfiles.tui.screens.dialogs import Dialog


class StepDialog(Dialog[ops.Outcome]):
    """A step that needs nothing but a yes: what it does, then OK runs it."""

    def __init__(
        self,
        title: str,
        text: str,
        ok: str,
        label: str,
        operation: str,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self.OK_LABEL = ok
        self.text = text  # markup: the caller escapes what comes from records
        self.label = label
        self.operation = operation
        self.args = args
        self.kwargs = kwargs

    def fields(self) -> Iterable[Widget]:
        yield Static(self.text, id="step")

    def action_submit(self) -> None:
        self.run(self.label, self.operation, *self.args, **self.kwargs)


class LoseQuoteDialog(Dialog[ops.Outcome]):
    TITLE_TEXT = "Quote lost"
    OK_LABEL = "Lose"

    def __init__(self, quote_id: str) -> None:
        super().__init__()
        self.quote_id = quote_id

    def fields(self) -> Iterable[Widget]:
        yield Static(f"The customer declined [b]{escape(self.quote_id)}[/b].")
        yield from self.field(
            "Why? (kept on the quote as its loss_reason)",
            Input(placeholder="price, timing, went with a competitor…", id="reason"),
        )

    def action_submit(self) -> None:
        reason = self.value("#reason")
        if not reason:
            self.error("Reason: say why the customer declined it")
            return
        self.run(f"Lose {self.quote_id}", "quote_lose", self.quote_id, reason=reason)


class InvoiceDialog(Dialog[ops.Outcome]):
    """``crm invoice new ORDER --amount A``: the amount prefilled with what the order
    has left to invoice, and never more."""

    TITLE_TEXT = "New invoice"
    OK_LABEL = "Invoice"

    def __init__(self, order_id: str, left: Decimal, currency: str) -> None:
        super().__init__()
        self.order_id = order_id
        self.left = left
        self.currency = currency

    def fields(self) -> Iterable[Widget]:
        yield Static(
            f"An invoice of [b]{escape(self.order_id)}[/b], which has "
            f"[b]{fmt(self.left)} {escape(self.currency)}[/b] left to invoice "
            "(taxes included): all of it, or a part."
        )
        yield from self.field(
            f"Amount ({self.currency}, at most {fmt(self.left)})",
            Input(str(self.left), id="amount"),
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#amount", Input).focus()

    def action_submit(self) -> None:
        text = self.value("#amount").replace(",", "").replace(" ", "")
        amount = decimal(text) if text else None
        if amount is None or not amount.is_finite():
            self.error(f"Amount: '{text}' is not an amount (write it like 12500.50)")
            return
        if amount <= 0 or amount != to_cent(amount):
            self.error("Amount: a positive amount, to the cent")
            return
        if amount > self.left:
            self.error(
                f"Amount: {fmt(amount)} {self.currency} is more than {self.order_id} has "
                f"left to invoice ({fmt(self.left)} {self.currency})"
            )
            return
        self.run(f"Invoice {self.order_id}", "invoice_new", self.order_id, amount=amount)


class DayDialog(Dialog[ops.Outcome]):
    """A step that happened on a day: an invoice paid, an order delivered (today by
    default; never a day to come)."""

    def __init__(
        self, title: str, text: str, ok: str, label: str, operation: str, record_id: str
    ) -> None:
        super().__init__()
        self.TITLE_TEXT = title
        self.OK_LABEL = ok
        self.text = text
        self.label = label
        self.operation = operation
        self.record_id = record_id

    def fields(self) -> Iterable[Widget]:
        yield Static(self.text)
        today = self.crm.today().isoformat()
        yield from self.field("On (YYYY-MM-DD)", Input(today, id="on"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#on", Input).focus()

    def action_submit(self) -> None:
        text = self.value("#on")
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            self.error(f"On: '{text}' is not a date (YYYY-MM-DD)")
            return
        self.run(self.label, self.operation, self.record_id, on=day)


class CloseWonOffer(Dialog[ops.Outcome]):
    """What a won quote asks of its opportunity at its last stage: closing it as won
    (the ``close`` operation; the rules may still refuse, and say why)."""

    TITLE_TEXT = "Close the opportunity as won?"
    OK_LABEL = "Close as won"

    def __init__(self, opportunity_id: str, quote_id: str) -> None:
        super().__init__()
        self.opportunity_id = opportunity_id
        self.quote_id = quote_id

    def fields(self) -> Iterable[Widget]:
        row = self.snap.rows.get(self.opportunity_id)
        name = str(row.data.get("name") if row else self.opportunity_id)
        stage = self.snap.name("stages", row.data.get("stage")) if row else ""
        yield Static(
            f"[b]{escape(self.quote_id)}[/b] is won. [b]{escape(name)}[/b] is at its last "
            f"stage{f' ({escape(stage)})' if stage else ''}: close it as won now?\n"
            "Then make the order from the won quote (o).",
            id="offer",
        )

    def action_submit(self) -> None:
        self.run(f"Win {self.opportunity_id}", "close", self.opportunity_id, won=True)
