"""The totals of a list's selection, summed by one call of the built-in ``sum``.

A search at 100,000 opportunities selects tens of thousands of rows, and the totals
line adds their amounts and weighted amounts per currency.  Added as decimals one row
at a time, that took 40–60 ms of a keystroke's 100.  Here each row's two amounts are
packed into one integer, a lane of :data:`LANE` bits per currency and column, and the
rows' integers are added by ``sum`` in C: integers add lane by lane, so the one sum
holds every lane's.  :meth:`Lanes.unpack` turns it into the same :class:`Total` the plain
loop (:func:`add_rows`) makes; ``tests/test_tui_totals.py`` holds the two together.

A lane holds ``cents << COUNT_BITS | 1`` for a row of its currency with that amount, 0
otherwise: the count tells a total of 0.00 from no amount at all (a currency with no
amount in the selection is not in the totals).  A row whose amount is not whole cents,
or too large for a lane, cannot be packed (:meth:`Lanes.pack` gives None): the plain loop
sums that selection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Context, Decimal
from functools import cache

from crmfiles.money import Total
from crmfiles.reports.pipeline import Row

LANE = 128  # bits: a sum of up to 2**32 rows of up to 2**62 cents each, and its count
COUNT_BITS = 32
_LANE_MASK = (1 << LANE) - 1
_COUNT_MASK = (1 << COUNT_BITS) - 1
_CENTS_LIMIT = 1 << 62
_EXACT = Context(prec=60)  # a lane's sum has up to 29 digits


def add_rows(rows: Iterable[Row], amount: Total, weighted: Total) -> None:
    """The plain sum: each row's amount and weighted amount added to the totals of its
    currency (:meth:`Total.add`, inlined)."""
    sums, weights, zero, base = amount.by_currency, weighted.by_currency, Decimal(0), amount.base
    for row in rows:
        code = row.currency or base
        if row.amount is not None:
            sums[code] = sums.get(code, zero) + row.amount
        if row.weighted is not None:
            weights[code] = weights.get(code, zero) + row.weighted


class Lanes:
    """The lanes for a set of currencies: two per currency (amount, weighted)."""

    def __init__(self, codes: tuple[str, ...]) -> None:
        self.codes = codes
        self._shift = {code: 2 * i * LANE for i, code in enumerate(codes)}

    @staticmethod
    @cache
    def of(codes: tuple[str, ...]) -> Lanes:
        """One object per set of currencies (a row's packed integer remembers which)."""
        return Lanes(codes)

    def pack(self, row: Row, base: str) -> int | None:
        """The row's amounts in their lanes; None when one cannot be packed."""
        shift = self._shift.get(row.currency or base)
        if shift is None:
            return None
        packed = 0
        for value, lane in ((row.amount, shift), (row.weighted, shift + LANE)):
            if value is None:
                continue
            scaled = value.scaleb(2)
            cents = int(scaled)
            if cents != scaled or not -_CENTS_LIMIT < cents < _CENTS_LIMIT:
                return None
            packed += ((cents << COUNT_BITS) | 1) << lane
        return packed

    def unpack(self, total: int, amount: Total, weighted: Total) -> None:
        """Add a sum of packed rows to the totals."""
        for code in self.codes:
            for into in (amount, weighted):
                lane = total & _LANE_MASK
                if lane >> (LANE - 1):  # the lane's sign: a negative sum
                    lane -= 1 << LANE
                total = (total - lane) >> LANE
                if lane & _COUNT_MASK:  # (rows with an amount in this currency)
                    cents = lane >> COUNT_BITS
                    into.by_currency[code] = Decimal(cents).scaleb(-2, _EXACT)


def sum_packed(packed: Sequence[int], positions: Iterable[int]) -> int:
    """The sum of the packed rows at these positions (C loops only)."""
    return sum(map(packed.__getitem__, positions))
