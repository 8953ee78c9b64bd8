"""Orders: ``crm order new|deliver|cancel``.

An order is made from a won quote and carries its lines, currency, terms, partner and
opportunity; it is ``open`` until it is delivered (on a day) or canceled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan
from crmfiles.ops.documents import (
    day,
    document,
    new_document,
    new_plan,
    next_id,
    numbered,
    status_plan,
)
from crmfiles.ops.runner import Unchanged, operation
from crmfiles.ops.workspace import Workspace
from crmfiles.records.store import Repository

ORDERS = "orders"
WON, OPEN = frozenset({"won"}), frozenset({"open"})


def plan_new(ws: Workspace, quote_id: str) -> Plan:
    """``crm order new Q``: an open order from the won quote Q."""
    quote = document(ws, "quotes", quote_id, WON)
    data = quote.data
    if data.get("status") != "won":
        raise CrmError(
            f"{quote.id} is {data.get('status')}: `crm order new` makes an order from a won quote",
            hint=f"`crm quote win {quote.id}` once the customer accepts it",
        )
    ordered = sorted(
        r.id
        for r in Repository(ws.root).records(ORDERS)
        if r.data.get("quote") == quote.id and r.data.get("status") != "canceled"
    )
    if ordered:
        raise CrmError(
            f"{quote.id} is ordered already by {', '.join(ordered)}",
            hint=f"a quote makes one order: `crm show {ordered[0]}`; "
            f"`crm order cancel {ordered[0]}` first to order it again",
        )
    partner = data.get("partner")
    if partner is None and isinstance(data.get("opportunity"), str):
        try:
            partner = ws.find(data["opportunity"], ("opportunities",)).data.get("partner")
        except CrmError:
            partner = None  # (the missing opportunity is validate's to report)
    fields: dict[str, Any] = {
        "id": next_id(ws, ORDERS, ws.today.year),
        "quote": quote.id,
        "opportunity": data.get("opportunity"),
        "partner": partner,
        "date": ws.today.isoformat(),
        "status": "open",
        "currency": data.get("currency") or ws.config.currency,
        "lines": data.get("lines"),
        "terms": data.get("terms"),
    }
    order = new_document(ws, ORDERS, fields)
    notes = [f"  next: `crm invoice new {order.id}` (all of it, or --amount A for a part)"]
    return new_plan(ws, order, verb="order new", source=quote, asked=quote_id, notes=notes)


new = numbered(plan_new)


def plan_deliver(ws: Workspace, order_id: str, *, on: dt.date | None = None) -> Plan | Unchanged:
    """``crm order deliver O [--on DATE]``: delivered, on a day (today by default)."""
    order = document(ws, ORDERS, order_id, OPEN)
    when = day(on, ws, "an order is delivered").isoformat()
    return status_plan(
        ws,
        order,
        "delivered",
        verb="order deliver",
        changes={"delivered_on": when},
        summary=f"delivered {order.id} on {when}",
    )


deliver = operation(plan_deliver)


def plan_cancel(ws: Workspace, order_id: str) -> Plan | Unchanged:
    """``crm order cancel O``: canceled, once none of its invoices is open (cancel them
    first) or paid (an order that was paid for stays: a credit note is not part of
    crmfiles)."""
    order = document(ws, ORDERS, order_id, OPEN)
    invoices = sorted(
        (str(r.data.get("status")), r.id)
        for r in Repository(ws.root).records("invoices")
        if r.data.get("order") == order.id and r.data.get("status") in ("open", "paid")
    )
    paid = [i for status, i in invoices if status == "paid"]
    if paid:
        raise CrmError(
            f"{order.id} has paid invoices: {', '.join(paid)}; an order paid for is not canceled",
            hint="a credit note is not part of crmfiles: record the refund in your "
            "accounting, and leave the order as it is",
        )
    if invoices:
        ids = [i for _, i in invoices]
        raise CrmError(
            f"{order.id} has open invoices: {', '.join(ids)}",
            hint="cancel them first: " + "; ".join(f"`crm invoice cancel {i}`" for i in ids),
        )
    return status_plan(ws, order, "canceled", verb="order cancel", summary=f"canceled {order.id}")


cancel = operation(plan_cancel)
