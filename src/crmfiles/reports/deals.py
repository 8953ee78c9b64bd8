"""Every opportunity's facts as columns, with their money: what the reports aggregate,
read without making an object per deal (at 100,000 deals the objects cost more than
the sums)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from functools import cached_property
from itertools import compress
from typing import Any, cast

from crmfiles.money import Total
from crmfiles.records import facts, iso_date
from crmfiles.records.facts_table import MISSING, FactTable
from crmfiles.records.store import Repository

ZERO = Decimal(0)


class Deals:
    """The opportunities of a revision, field by field (``column``), their amounts,
    weighted amounts and currencies computed as :func:`crmfiles.reports.pipeline.rows`
    computes them."""

    def __init__(self, repo: Repository, table: FactTable | None = None) -> None:
        self.repo = repo
        self.table: FactTable = table or repo.fact_table("opportunities")

    @property
    def ids(self) -> list[str]:
        """Each deal's id (read from the paths only when asked for)."""
        return self.table.ids

    def __len__(self) -> int:
        return len(self.table)

    def column(self, name: str) -> list[Any]:
        """``data.get(name)`` of every deal."""
        return self.table.column(name)

    @cached_property
    def currency(self) -> list[str]:
        base = self.repo.config.currency
        return [str(c or base) for c in self.column("currency")]

    def _money(
        self, kept: str, kept_weighted: str, *, of_margin: bool = False
    ) -> tuple[list[Decimal | None], list[Decimal | None]]:
        """Each deal's amount (or margin) and its weighted value: as the facts keep
        them, or from the lines and the products catalog where they do not."""
        stated, stated_weighted = self.table.values(kept), self.table.values(kept_weighted)
        if MISSING not in stated:  # every one kept: no catalog to read
            every = self.amount if kept == facts.AMOUNT else _decimals(stated)
            return every, _decimals(stated_weighted)
        values: list[Decimal | None] = []
        weights: list[Decimal | None] = []
        products: dict[str, Any] | None = None
        read = facts.margin if of_margin else facts.amount
        for i, (value, weight) in enumerate(zip(stated, stated_weighted, strict=True)):
            if value is MISSING:  # priced from the catalog: the lines are kept
                if products is None:
                    products = self.repo.catalog("products")
                data = self.table.row(i)
                made = read(data, products)
                values.append(made)
                weights.append(facts.weighted_of(data, made, of_margin=of_margin))
                continue
            values.append(None if value is None else Decimal(value))
            weights.append(None if weight is None or weight is MISSING else Decimal(weight))
        return values, weights

    @cached_property
    def _amounts(self) -> tuple[list[Decimal | None], list[Decimal | None]]:
        return self._money(facts.AMOUNT, facts.WEIGHTED)

    @cached_property
    def _margins(self) -> tuple[list[Decimal | None], list[Decimal | None]]:
        return self._money(facts.MARGIN, facts.WEIGHTED_MARGIN, of_margin=True)

    @cached_property
    def amount(self) -> list[Decimal | None]:
        stated = self.table.values(facts.AMOUNT)
        if MISSING not in stated:  # (the weighted amounts are not made for it)
            return _decimals(stated)
        return self._amounts[0]

    @property
    def weighted(self) -> list[Decimal | None]:
        return self._amounts[1]

    @property
    def margin(self) -> list[Decimal | None]:
        return self._margins[0]

    @property
    def weighted_margin(self) -> list[Decimal | None]:
        return self._margins[1]

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


def _decimals(stated: list[Any]) -> list[Decimal | None]:
    """Kept decimal strings as decimals (None where none is kept), in C where every
    deal has one."""
    if None in stated or MISSING in stated:
        return [None if v is None or v is MISSING else Decimal(v) for v in stated]
    return list(map(Decimal, stated))


def add_amounts(
    total: Total, amounts: list[Decimal | None], currencies: list[str], order: Sequence[int]
) -> None:
    """:meth:`Total.add` of the amounts at ``order`` (indices): a sum per currency,
    in C, each in the same order as one add after another."""
    sums = total.by_currency
    base = total.base
    picked = list(map(amounts.__getitem__, order))
    if type(None) in set(map(type, picked)):  # (`None in` asks each decimal: slow)
        order = [i for i, amount in zip(order, picked, strict=True) if amount is not None]
        picked = [amount for amount in picked if amount is not None]
    codes = [c or base for c in map(currencies.__getitem__, order)]
    every = cast(list[Decimal], picked)
    for code in dict.fromkeys(codes):
        sums[code] = sum(compress(every, map(code.__eq__, codes)), sums.get(code, ZERO))
