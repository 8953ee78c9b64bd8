"""What a list shows of a snapshot's rows: a sorted order, the positions in it that a
search and filters keep, and their totals.

At 100,000 opportunities a keystroke in the search box must refilter the list in under
100 ms.  A Python loop over the rows costs 10–20 ms each time it only touches them
(they lie scattered in memory), so the work of a keystroke is done on lists aligned
with the order (:class:`Order`: the rows' ids, search texts and packed amounts) by
loops that run in C (``map``, ``compress``, ``sum``); the selection is the positions
kept, and the rows and ids a screen reads are views of them (:class:`Picked`), read one
visible row at a time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, contains
from typing import Any, Generic, TypeVar, overload

from crmfiles.money import Total
from crmfiles.reports.pipeline import matches
from crmfiles.tui.rows import ListRow, make_search_texts
from crmfiles.tui.totals import Lanes, add_rows, sum_packed

T = TypeVar("T")
KEPT_FILTERS = 8  # sets of filters whose rows an order keeps
PLAIN = 2000  # rows: fewer are summed as decimals, without packing every row first


class Picked(Sequence[T], Generic[T]):
    """The items at these positions (ascending), read when asked for."""

    __slots__ = ("items", "positions")

    def __init__(self, items: Sequence[T], positions: Sequence[int]) -> None:
        self.items = items
        self.positions = positions

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return [self.items[i] for i in self.positions[index]]
        return self.items[self.positions[index]]

    def __iter__(self) -> Iterator[T]:
        return map(self.items.__getitem__, self.positions)

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """Where ``value`` is (items are distinct): found in the items, then its
        position among the positions kept."""
        try:
            at = self.items.index(value)
        except ValueError:
            raise ValueError(f"{value!r} is not selected") from None
        found = bisect_left(self.positions, at)
        kept = found < len(self.positions) and self.positions[found] == at
        if kept and start <= found and (stop is None or found < stop):
            return found
        raise ValueError(f"{value!r} is not selected")


@dataclass(eq=False)
class Order:
    """A snapshot's rows in one sort order, and lists aligned with it, each made the
    first time a selection needs it."""

    rows: list[ListRow]
    lanes: Lanes
    base: str
    _ids: list[str] | None = field(default=None, repr=False)
    _hays: list[str] | None = field(default=None, repr=False)
    _packed: list[int] | None = field(default=None, repr=False)
    _unpackable: bool = False
    _filtered: dict[tuple[Any, ...], list[int]] = field(default_factory=dict, repr=False)

    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = list(map(attrgetter("id"), self.rows))
        return self._ids

    @property
    def hays(self) -> list[str]:
        """Each row's search text (:func:`make_search_texts`)."""
        if self._hays is None:
            make_search_texts(self.rows)  # (those not made ahead)
            self._hays = list(map(attrgetter("_hay"), self.rows))
        return self._hays

    @property
    def packed(self) -> list[int] | None:
        """Each row's amounts packed in :attr:`lanes`; None when a row's cannot be."""
        if self._packed is None and not self._unpackable:
            made = pack_rows(self.rows, self.lanes, self.base)
            self._unpackable = made is None
            self._packed = made
        return self._packed

    def filtered(self, filters: Mapping[str, Sequence[str]]) -> list[int]:
        """The positions of the rows that pass the filters (:func:`matches`), worked
        out once per set of filters: a search filters these positions."""
        key = tuple(sorted((k, tuple(v)) for k, v in filters.items()))
        found = self._filtered.get(key)
        if found is None:
            rows = self.rows
            found = [i for i in range(len(rows)) if matches(rows[i].row, filters)]
            if len(self._filtered) >= KEPT_FILTERS:
                self._filtered.clear()
            self._filtered[key] = found
        return found

    def search(self, words: Sequence[str], among: Sequence[int] | None = None) -> list[int]:
        """The positions (of ``among``, default all) whose search text holds every word."""
        hays = self.hays
        found: Sequence[int] | None = among
        for word in words:
            if found is None:
                found = list(compress(range(len(hays)), map(contains, hays, repeat(word))))
            else:
                texts = map(hays.__getitem__, found)
                found = list(compress(found, map(contains, texts, repeat(word))))
        return list(found) if found is not None else list(range(len(hays)))

    def totals(self, positions: Sequence[int], amount: Total, weighted: Total) -> None:
        """The amounts of the rows at these positions added to the totals: packed
        (:mod:`crmfiles.tui.totals`) when many rows are selected."""
        packed = self.packed if len(positions) > PLAIN else None
        if packed is None:
            add_rows((lr.row for lr in map(self.rows.__getitem__, positions)), amount, weighted)
        else:
            self.lanes.unpack(sum_packed(packed, positions), amount, weighted)


def pack_rows(rows: Sequence[ListRow], lanes: Lanes, base: str) -> list[int] | None:
    """Each row's amounts in ``lanes`` (kept on the row, so a new sort order reuses
    them); None as soon as one row's cannot be packed."""
    out: list[int] = []
    for lr in rows:
        kept = lr._packed
        if kept is not None and kept[0] is lanes:
            out.append(kept[1])
            continue
        packed = lanes.pack(lr.row, base)
        if packed is None:
            return None
        lr._packed = (lanes, packed)
        out.append(packed)
    return out


@dataclass
class Selection:
    """The rows a list shows, their ids, and their totals in the base currency."""

    rows: Sequence[ListRow]
    keys: Sequence[str]
    amount: Total
    weighted: Total
