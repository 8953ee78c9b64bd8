"""Invoicing: by month, what was ordered, invoiced and paid, and what is still open.

- ordered: the gross total (tax included) of the orders dated that month, but canceled
  ones (:func:`crmfiles.documents.totals.document_totals`);
- invoiced: the invoices dated that month that count against their order (open or paid);
- paid: the paid invoices, by the month of ``paid_on``;
- open: the invoices dated that month that are still open (not paid yet).

Money is in the base currency of crm.yaml, converted at the rates of
``catalogs/currencies.yaml``; with a period, only what is dated within it.  Besides the
months: what the orders (not canceled) have still to invoice, and the open invoices past
their due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmfiles.documents.lifecycle import COUNTED_INVOICE, is_overdue
from crmfiles.documents.totals import document_totals, left_to_invoice
from crmfiles.money import Total, amount_of
from crmfiles.records import iso_date
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total

MEASURES = ("ordered", "invoiced", "paid", "open")


@dataclass
class Month:
    month: str  # YYYY-MM
    totals: dict[str, Total]
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Invoicing:
    period: Period
    months: list[Month]
    total: dict[str, Total]
    to_invoice: Total  # what orders that are not canceled have not invoiced yet
    overdue: Total  # open invoices past their due date
    overdue_count: int
    today: dt.date

    def all_totals(self) -> list[Total]:
        return [*self.total.values(), self.to_invoice, self.overdue] + [
            t for m in self.months for t in m.totals.values()
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "invoicing",
            "months": [
                {
                    "month": m.month,
                    **{k: money(m.totals[k]) for k in MEASURES},
                    "orders": m.counts.get("ordered", 0),
                    "invoices": m.counts.get("invoiced", 0),
                }
                for m in self.months
            ],
            "total": {k: money(self.total[k]) for k in MEASURES},
            "to_invoice": money(self.to_invoice),
            "overdue": {"count": self.overdue_count, "amount": money(self.overdue)},
            **money_note(self.all_totals()),
            "period": self.period.as_dict(),
        }


def invoicing(
    repo: Repository, period: Period | None = None, today: dt.date | None = None
) -> Invoicing:
    period = period or Period()
    today = today or dt.date.today()
    products = repo.catalog("products")
    base = repo.config.currency
    months: dict[str, Month] = {}
    total = {k: new_total(repo) for k in MEASURES}

    def add(measure: str, day: Any, amount: Any, currency: Any) -> None:
        when = iso_date(day)
        if when is None or amount is None or when not in period:
            return
        key = when.isoformat()[:7]
        month = months.get(key)
        if month is None:
            month = months[key] = Month(key, {k: new_total(repo) for k in MEASURES})
        month.totals[measure].add(amount, currency or base)
        month.counts[measure] = month.counts.get(measure, 0) + 1
        total[measure].add(amount, currency or base)

    invoices = [r.data for r in repo.records("invoices")]
    to_invoice, overdue, overdue_count = new_total(repo), new_total(repo), 0
    for order in repo.records("orders"):
        data = order.data
        if data.get("status") == "canceled":
            continue
        totals = document_totals(data, products)
        add("ordered", data.get("date"), totals.gross if totals else None, data.get("currency"))
        left = left_to_invoice(data, invoices, products)
        if left is not None and left > 0:
            to_invoice.add(left, str(data.get("currency") or base))
    for data in invoices:
        status, amount, currency = data.get("status"), amount_of(data), data.get("currency")
        if status in COUNTED_INVOICE:
            add("invoiced", data.get("date"), amount, currency)
        if status == "paid":
            add("paid", data.get("paid_on"), amount, currency)
        if status == "open":
            add("open", data.get("date"), amount, currency)
            if amount is not None and is_overdue(data, today):
                overdue.add(amount, str(currency or base))
                overdue_count += 1
    ordered = [months[k] for k in sorted(months)]
    return Invoicing(period, ordered, total, to_invoice, overdue, overdue_count, today)
