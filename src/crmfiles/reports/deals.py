"""Every opportunity's facts as columns, with their money: what the reports aggregate,
read without making an object per deal (at 100,000 deals the objects cost more than
the sums)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Any

from crmfiles.records import facts, iso_date
from crmfiles.records.facts_table import MISSING, FactTable
from crmfiles.records.store import Repository


class Deals:
    """The opportunities of a revision, field by field (``column``), their amounts,
    weighted amounts and currencies computed as :func:`crmfiles.reports.pipeline.rows`
    computes them."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.table: FactTable = repo.fact_table("opportunities")
        self.ids = self.table.ids

    def __len__(self) -> int:
        return len(self.table)

    def column(self, name: str) -> list[Any]:
        """``data.get(name)`` of every deal."""
        return self.table.column(name)

    @cached_property
    def currency(self) -> list[str]:
        base = self.repo.config.currency
        return [str(c or base) for c in self.column("currency")]

    @cached_property
    def _money(self) -> tuple[list[Decimal | None], list[Decimal | None]]:
        amounts: list[Decimal | None] = []
        weights: list[Decimal | None] = []
        kept_amounts = self.table.values(facts.AMOUNT)
        kept_weights = self.table.values(facts.WEIGHTED)
        products: dict[str, Any] | None = None
        for i, (amount, weight) in enumerate(zip(kept_amounts, kept_weights, strict=True)):
            if amount is MISSING:  # priced from the catalog: the lines are kept
                if products is None:
                    products = self.repo.catalog("products")
                data = self.table.row(i)
                value = facts.amount(data, products)
                amounts.append(value)
                weights.append(facts.weighted_of(data, value))
                continue
            amounts.append(None if amount is None else Decimal(amount))
            weights.append(None if weight is None or weight is MISSING else Decimal(weight))
        return amounts, weights

    @property
    def amount(self) -> list[Decimal | None]:
        return self._money[0]

    @property
    def weighted(self) -> list[Decimal | None]:
        return self._money[1]

    @cached_property
    def open(self) -> list[bool]:
        """In the pipeline: in progress and not closed."""
        return [
            status == "in_progress" and closed is not True
            for status, closed in zip(self.column("status"), self.column("closed"), strict=True)
        ]

    @cached_property
    def closed_on(self) -> list[dt.date | None]:
        """When each deal closed: ``closed_on``, else ``expected_close``."""
        days = _Dates()
        return [
            days(on) or days(expected)
            for on, expected in zip(
                self.column("closed_on"), self.column("expected_close"), strict=True
            )
        ]


class _Dates:
    """:func:`crmfiles.records.iso_date`, each distinct value parsed once."""

    def __init__(self) -> None:
        self.seen: dict[Any, dt.date | None] = {}

    def __call__(self, value: Any) -> dt.date | None:
        if not isinstance(value, str):
            return None
        try:
            return self.seen[value]
        except KeyError:
            day = self.seen[value] = iso_date(value)
            return day


def dates(values: list[Any]) -> list[dt.date | None]:
    """:func:`crmfiles.records.iso_date` of every value."""
    day = _Dates()
    return [day(v) for v in values]
