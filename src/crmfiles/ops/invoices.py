"""Invoices: ``crm invoice new|paid|cancel``.

An invoice bills an order, all of what it has not invoiced yet or a part of it (never
more: :func:`crmfiles.documents.totals.left_to_invoice`), to the order's partner in the
order's currency, due after the order's terms' payment days (else crm.yaml's
``documents.payment_days``, else 30).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crmfiles.documents.totals import left_to_invoice
from crmfiles.errors import CrmError
from crmfiles.money import fmt, to_cent
from crmfiles.ops.commit import Plan
from crmfiles.ops.documents import (
    DEFAULT_PAYMENT_DAYS,
    day,
    document,
    new_document,
    new_plan,
    next_id,
    numbered,
    setting,
    status_plan,
)
from crmfiles.ops.runner import Unchanged, operation
from crmfiles.ops.workspace import Workspace
from crmfiles.records.store import Repository

INVOICES = "invoices"
BILLABLE, OPEN = frozenset({"open", "delivered"}), frozenset({"open"})


def payment_days(ws: Workspace, terms: Any) -> int:
    entry = ws.catalog("terms").get(str(terms)) if terms is not None else None
    days = entry.get("payment_days") if entry else None
    if isinstance(days, int) and not isinstance(days, bool):
        return days
    return setting(ws, "payment_days", DEFAULT_PAYMENT_DAYS)


def plan_new(ws: Workspace, order_id: str, *, amount: Decimal | None = None) -> Plan:
    """``crm invoice new ORDER [--amount A]``: an open invoice of what the order has
    left to invoice, or of ``amount`` (which may not be more)."""
    if amount is not None and (amount != to_cent(amount) or amount <= 0):
        raise CrmError(
            f"--amount {amount}: an invoice is a positive amount, to the cent",
            hint="leave --amount out to invoice what the order has left",
        )
    order = document(ws, "orders", order_id, BILLABLE)
    data = order.data
    currency = str(data.get("currency") or ws.config.currency)
    if data.get("status") == "canceled":
        raise CrmError(
            f"{order.id} is canceled: `crm invoice new` bills an open or delivered order"
        )
    invoices = [r.data for r in Repository(ws.root).records(INVOICES)]
    left = left_to_invoice(data, invoices, ws.catalog("products"))
    if left is None:
        raise CrmError(
            f"{order.id} has no total to invoice: a line without a price (or no lines)",
            hint=f"`crm show {order.id}` shows its lines",
        )
    if left <= 0:
        raise CrmError(
            f"{order.id} is invoiced in full: nothing is left to invoice",
            hint=f"`crm list invoices --opportunity {data.get('opportunity')}` shows its invoices",
        )
    if amount is None:
        amount = left
    elif amount > left:
        raise CrmError(
            f"--amount {fmt(amount)} {currency} is more than {order.id} has left to invoice "
            f"({fmt(left)} {currency})",
            hint=f"invoice at most {fmt(left)}; leave --amount out to invoice all of it",
        )
    due = ws.today + dt.timedelta(days=payment_days(ws, data.get("terms")))
    fields: dict[str, Any] = {
        "id": next_id(ws, INVOICES, ws.today.year),
        "order": order.id,
        "partner": data.get("partner"),
        "date": ws.today.isoformat(),
        "due": due.isoformat(),
        "status": "open",
        "amount": amount,
        "currency": currency,
    }
    invoice = new_document(ws, INVOICES, fields)
    rest = left - amount
    notes = [
        f"  {fmt(amount)} {currency}, due {due.isoformat()}; "
        + (f"{fmt(rest)} {currency} left to invoice" if rest else f"{order.id} is invoiced in full")
    ]
    return new_plan(ws, invoice, verb="invoice new", source=order, asked=order_id, notes=notes)


new = numbered(plan_new)


def plan_paid(ws: Workspace, invoice_id: str, *, on: dt.date | None = None) -> Plan | Unchanged:
    """``crm invoice paid ID [--on DATE]``: paid, on a day (today by default)."""
    invoice = document(ws, INVOICES, invoice_id, OPEN)
    when = day(on, ws, "an invoice is paid").isoformat()
    return status_plan(
        ws,
        invoice,
        "paid",
        verb="invoice paid",
        changes={"paid_on": when},
        summary=f"{invoice.id} paid on {when}",
    )


paid = operation(plan_paid)


def plan_cancel(ws: Workspace, invoice_id: str) -> Plan | Unchanged:
    """``crm invoice cancel ID``: canceled; its amount no longer counts against the order."""
    invoice = document(ws, INVOICES, invoice_id, OPEN)
    return status_plan(
        ws, invoice, "canceled", verb="invoice cancel", summary=f"canceled {invoice.id}"
    )


cancel = operation(plan_cancel)
