"""What a quote, an order or an invoice comes to: exact decimals, to the cent.

A line's net amount is quantity × unit price (the product's list price when the line
has none) × months, less its discount — :func:`crmfiles.money.line_total`, the same
figure as an opportunity's line.  Its tax is the net × the line's ``tax_rate`` (else its
product's, else 0) / 100, rounded to the cent per line, as invoices are printed line by
line.  The document's totals are the sums of its lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmfiles.documents.lifecycle import COUNTED_INVOICE
from crmfiles.money import decimal, line_total, to_cent

ZERO = Decimal(0)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax_rate: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    lines: tuple[LineAmounts, ...] = ()

    @property
    def gross(self) -> Decimal:
        """What the customer pays: net plus tax."""
        return self.net + self.tax

    def taxes_by_rate(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """(rate, net at that rate, tax) per rate, lowest rate first: the tax summary a
        printed invoice carries."""
        groups: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for line in self.lines:
            net, tax = groups.get(line.tax_rate, (ZERO, ZERO))
            groups[line.tax_rate] = (net + line.net, tax + line.tax)
        return [(rate, net, tax) for rate, (net, tax) in sorted(groups.items())]


def tax_rate_of(line: Mapping[str, Any], products: Mapping[str, Any] | None) -> Decimal:
    """The line's tax rate in percent: its own, else its product's, else 0."""
    rate = decimal(line.get("tax_rate"))
    if rate is None and products is not None:
        product = products.get(str(line.get("product")))
        rate = decimal(product.get("tax_rate")) if isinstance(product, dict) else None
    return rate if rate is not None else ZERO


def line_amounts(line: Any, products: Mapping[str, Any] | None = None) -> LineAmounts | None:
    """A line's net, tax rate and tax; None when it has no price (nor its product)."""
    net = line_total(line, products)
    if net is None:
        return None
    rate = tax_rate_of(line, products)
    return LineAmounts(net=net, tax_rate=rate, tax=to_cent(net * rate / 100))


def document_totals(
    data: Mapping[str, Any], products: Mapping[str, Any] | None = None
) -> Totals | None:
    """Net, tax and gross of a quote's or an order's lines; None when a line has no
    price (a document that cannot be totalled is not silently short) or it has no
    lines at all."""
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        return None
    amounts: list[LineAmounts] = []
    for line in lines:
        one = line_amounts(line, products)
        if one is None:
            return None
        amounts.append(one)
    return Totals(
        net=sum((a.net for a in amounts), ZERO),
        tax=sum((a.tax for a in amounts), ZERO),
        lines=tuple(amounts),
    )


def invoiced(
    order_id: str, invoices: Iterable[Mapping[str, Any]], *, but: str | None = None
) -> Decimal:
    """What the order's invoices (open or paid; not canceled) add up to, leaving out the
    invoice ``but`` (the one being checked or written)."""
    total = ZERO
    for invoice in invoices:
        if invoice.get("order") != order_id or invoice.get("id") == but:
            continue
        if invoice.get("status") not in COUNTED_INVOICE:
            continue
        amount = decimal(invoice.get("amount"))
        if amount is not None:
            total += to_cent(amount)
    return total


def left_to_invoice(
    order: Mapping[str, Any],
    invoices: Iterable[Mapping[str, Any]],
    products: Mapping[str, Any] | None = None,
    *,
    but: str | None = None,
) -> Decimal | None:
    """The order's gross total less what is already invoiced; None when the order has
    no total."""
    totals = document_totals(order, products)
    if totals is None:
        return None
    return totals.gross - invoiced(str(order.get("id")), invoices, but=but)
