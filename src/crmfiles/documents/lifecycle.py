"""Which status a quote, an order or an invoice may take next.

A quote is ``draft`` (editable) → ``active`` (sent; read-only from then on) → ``won`` |
``lost`` | ``revised`` (a newer revision replaces it).  A draft may be revised or dropped
as lost, never won: a customer accepts what was sent.  An order is ``open`` →
``delivered`` | ``canceled``; an invoice ``open`` → ``paid`` (with ``paid_on``) |
``canceled``.  Final statuses are final.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crmfiles.records import iso_date

#: the document folders, and the status a new document of each starts with
INITIAL: Mapping[str, str] = {"quotes": "draft", "orders": "open", "invoices": "open"}

TRANSITIONS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "quotes": {
        "draft": frozenset({"active", "lost", "revised"}),
        "active": frozenset({"won", "lost", "revised"}),
        "won": frozenset(),
        "lost": frozenset(),
        "revised": frozenset(),
    },
    "orders": {
        "open": frozenset({"delivered", "canceled"}),
        "delivered": frozenset(),
        "canceled": frozenset(),
    },
    "invoices": {
        "open": frozenset({"paid", "canceled"}),
        "paid": frozenset(),
        "canceled": frozenset(),
    },
}

#: quotes that still bind the opportunity: at most one of them at a time, and none once
#: the opportunity is closed
OPEN_QUOTE = frozenset({"draft", "active"})
#: invoices whose amount counts against the order's total
COUNTED_INVOICE = frozenset({"open", "paid"})
#: a field a status needs: ``paid`` without ``paid_on`` says nothing of when
REQUIRES: Mapping[tuple[str, str], str] = {("invoices", "paid"): "paid_on"}


def allowed(folder: str, before: str, after: str) -> bool:
    """May a document of ``folder`` go from ``before`` to ``after``?  Staying put is
    always allowed; an unknown status is the schema's business, not the lifecycle's."""
    if before == after:
        return True
    steps = TRANSITIONS.get(folder, {})
    if before not in steps or after not in steps:
        return True
    return after in steps[before]


def next_statuses(folder: str, status: str) -> list[str]:
    """The statuses ``status`` may go to, in the lifecycle's order (for help and hints)."""
    steps = TRANSITIONS.get(folder, {})
    return [s for s in steps if s in steps.get(status, frozenset())]


def is_final(folder: str, status: str) -> bool:
    steps = TRANSITIONS.get(folder, {})
    return status in steps and not steps[status]


def missing_for(folder: str, data: Mapping[str, Any]) -> str | None:
    """The field the record's status needs and lacks (``paid`` without ``paid_on``)."""
    field = REQUIRES.get((folder, str(data.get("status"))))
    if field is not None and data.get(field) in (None, ""):
        return field
    return None


def is_overdue(data: Mapping[str, Any], today: dt.date) -> bool:
    """An invoice still open the day after its ``due`` date (``crm report invoicing``'s
    overdue, ``crm list invoices --overdue``)."""
    due = iso_date(data.get("due"))
    return data.get("status") == "open" and due is not None and due < today
