"""Exact money: decimals with two places, summed as decimals, converted with the
rates of ``catalogs/currencies.yaml`` and never silently mixed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

CENT = Decimal("0.01")
_PREC28 = Context(prec=28)


def decimal(value: Any) -> Decimal | None:
    """A YAML number (int, float or numeric string) as an exact decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def lines_total(
    data: Mapping[str, Any], products: Mapping[str, Any] | None = None
) -> Decimal | None:
    """Sum of the lines (quantity x unit price x months, less discount); a line without
    a unit price takes its product's list price.  None without lines or a price."""
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        return None
    total = Decimal(0)
    for line in lines:
        amount = line_total(line, products)
        if amount is None:
            return None
        total += amount
    return total


def line_total(line: Any, products: Mapping[str, Any] | None = None) -> Decimal | None:
    """One line's total, to the cent; None when it has no price (nor its product)."""
    if not isinstance(line, dict):
        return None
    price = decimal(line.get("unit_price"))
    if price is None and products is not None:
        product = products.get(str(line.get("product")))
        price = decimal(product.get("price")) if isinstance(product, dict) else None
    quantity = decimal(line.get("quantity", 1))
    if price is None or quantity is None:
        return None
    discount = decimal(line.get("discount", 0)) or Decimal(0)
    # a recurring line (a service contract) counts every month of its duration
    months = line.get("duration_months")
    periods = months if isinstance(months, int) and not isinstance(months, bool) else 1
    return to_cent(quantity * price * periods * (100 - discount) / 100)


def line_margin(line: Any, products: Mapping[str, Any] | None = None) -> Decimal | None:
    """A line's margin amount: its total x its margin % / 100; None without a margin."""
    percent = decimal(line.get("margin")) if isinstance(line, dict) else None
    total = line_total(line, products) if percent is not None else None
    return None if total is None or percent is None else to_cent(total * percent / 100)


def margin_of(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """The expected margin amount: the sum over the lines that state a margin (a line
    without one adds nothing known); None when no line states one."""
    lines = data.get("lines")
    margins = [line_margin(line, products) for line in lines] if isinstance(lines, list) else []
    known = [m for m in margins if m is not None]
    return sum(known, Decimal(0)) if known else None


def amount_of(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """The expected revenue: ``amount``, or the sum of the lines when it is absent."""
    amount = decimal(data.get("amount"))
    return to_cent(amount) if amount is not None else lines_total(data, products)


def weighted(amount: Decimal | None, probability: Any) -> Decimal | None:
    if amount is None or not isinstance(probability, int) or isinstance(probability, bool):
        return None
    return to_cent(amount * probability / 100)


@dataclass
class Total:
    """Amounts per currency, and their sum in the base currency where rates allow."""

    base: str
    rates: Mapping[str, Decimal]
    by_currency: dict[str, Decimal] = field(default_factory=dict)

    def add(self, amount: Decimal | None, currency: str | None) -> None:
        if amount is None:
            return
        code = currency or self.base
        self.by_currency[code] = self.by_currency.get(code, Decimal(0)) + amount

    @property
    def missing_rates(self) -> list[str]:
        return sorted(c for c in self.by_currency if c != self.base and c not in self.rates)

    @property
    def in_base(self) -> Decimal | None:
        """The sum in the base currency; None when a currency has no rate."""
        if self.missing_rates:
            return None
        total = Decimal(0)
        for code, amount in self.by_currency.items():
            total += amount if code == self.base else amount * self.rates[code]
        return to_cent(total)

    @property
    def converted(self) -> bool:
        return any(code != self.base for code in self.by_currency)


def rates_from(currencies: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for entry in currencies:
        rate = decimal(entry.get("rate"))
        if isinstance(entry.get("id"), str) and rate is not None and rate > 0:
            out[entry["id"]] = rate
    return out


def fmt(amount: Decimal | None) -> str:
    """For people: thousands separated (``109,155.00``)."""
    return "" if amount is None else f"{to_cent(amount):,.2f}"


# --- money at the exits: CSV, JSON and SQLite say it the same way ----------------------


def to_cent(amount: Decimal) -> Decimal:
    """Rounded to the cent (half to even), however many digits it has."""
    if amount.adjusted() < 24:  # the default context's 28 digits hold it: no new context
        return amount.quantize(CENT)
    with localcontext() as ctx:
        ctx.prec = max(28, amount.adjusted() + 4)
        return amount.quantize(CENT)


def plain(amount: Decimal | None) -> str | None:
    """Money as CSV and JSON write it: a decimal string with exactly two places
    (``109155.00``), never a float, never sci notation; None stays None."""
    return None if amount is None else f"{to_cent(amount):f}"


def cents(amount: Decimal) -> int:
    """Money as SQLite stores it: a whole number of cents, which ``sum()`` adds exactly."""
    exact = to_cent(amount)
    if exact.adjusted() < 24:  # 28 digits hold it: no new context (an export has a million)
        return int(exact.scaleb(2, _PREC28))
    with localcontext() as ctx:
        ctx.prec = max(28, exact.adjusted() + 4)
        return int(exact.scaleb(2))
