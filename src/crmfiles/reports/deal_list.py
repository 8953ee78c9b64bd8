"""``crm list opportunities``: the deals a view (and the filters beside it) selects,
sorted, with their totals — worked out column by column from the facts
(:class:`~crmfiles.reports.deals.Deals`), never a row object per deal, so 100,000 of
them list in a fraction of a second.  Values, filters and sort order are those of
:class:`~crmfiles.reports.pipeline.Row`, :func:`~crmfiles.reports.pipeline.matches`
and :func:`~crmfiles.reports.pipeline.sort_rows`, which the TUI uses row by row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from crmfiles.money import Total, rates_from
from crmfiles.records import facts
from crmfiles.records.facts_table import MISSING, FactTable
from crmfiles.records.store import Repository
from crmfiles.reports.deals import Deals, add_amounts
from crmfiles.reports.pipeline import DEFAULT_COLUMNS, DERIVED, _sort_key, as_list, view

ZERO = Decimal(0)
NAMES = ("partner_name", "stage_name", "responsible_name")


class Values:
    """Every deal's value of a column, as :meth:`Row.value` gives it, made once."""

    def __init__(self, repo: Repository, deals: Deals, days: Mapping[str, int] | None) -> None:
        self.repo, self.deals, self.days = repo, deals, days
        self.made: dict[str, list[Any]] = {}

    def __call__(self, column: str) -> list[Any]:
        found = self.made.get(column)
        if found is None:
            found = self.made[column] = self._make(column)
        return found

    def _make(self, column: str) -> list[Any]:
        deals = self.deals
        if column == "days_in_stage":
            days = self.days or {}
            return [days.get(i) for i in deals.ids]
        if column in ("amount", "weighted", "margin", "weighted_margin", "currency"):
            return list(getattr(deals, column))
        if column == "age":
            today = dt.date.today()
            return [_age(today, opened) for opened in deals.column("opened")]
        if column in NAMES:
            return self._names(column)
        if column.endswith("_name"):
            return [None] * len(deals)
        return deals.column(column)

    def _names(self, column: str) -> list[str]:
        repo, deals = self.repo, self.deals
        if column == "partner_name":
            partners = repo.fact_table("partners")
            named = dict(zip(partners.ids, partners.column("name"), strict=True))
            return [  # (a deal without a partner: blank; one whose partner is null: "None")
                str(named.get(p, "" if p is MISSING else p)) for p in deals.table.values("partner")
            ]
        if column == "stage_name":
            stages = {k: v.get("name") for k, v in repo.catalog("stages").items()}
            return [str(stages.get(s, s or "")) for s in deals.column("stage")]
        people = {k: v.get("name") for k, v in repo.catalog("people").items()}
        return [str(people.get(p, "")) for p in deals.column("responsible")]


def _age(today: dt.date, opened: Any) -> int | None:
    try:
        return (today - dt.date.fromisoformat(str(opened))).days
    except ValueError:
        return None


class Listing:
    """The selected deals (``order``: their indices among all), the columns to show
    and the totals of their amounts."""

    def __init__(
        self,
        values: Values,
        order: list[int],
        columns: tuple[str, ...],
        amount: Total,
        weighted: Total,
        view_id: str | None,
    ) -> None:
        self.values, self.order, self.columns = values, order, columns
        self.amount, self.weighted, self.view = amount, weighted, view_id
        self._pick: Callable[[list[Any]], tuple[Any, ...]] | None = None
        self.left_out: list[str] = []  # files that could not be read

    def __len__(self) -> int:
        return len(self.order)

    def column(self, name: str) -> list[Any]:
        """The selected deals' values of a column, in order."""
        if len(self.order) < 2:
            return [self.values(name)[i] for i in self.order]
        if self._pick is None:
            self._pick = itemgetter(*self.order)
        return list(self._pick(self.values(name)))

    @property
    def base(self) -> str:
        return self.amount.base


def listing(
    repo: Repository,
    filters: Mapping[str, Iterable[str]] | None = None,
    view_id: str | None = None,
    sort: Sequence[str] = (),
    days: Mapping[str, int] | None = None,
    shown: Sequence[str] = (),
) -> Listing:
    """The opportunities a view (and the filters given beside it) selects, sorted;
    ``days`` fills the ``days_in_stage`` column (from git history: the caller's to
    read, when the column is asked for); ``shown``: columns the caller shows besides
    the view's (``--columns``)."""
    chosen = view(repo, view_id)
    merged: dict[str, list[str]] = {k: as_list(v) for k, v in (chosen.get("filter") or {}).items()}
    for key, given in (filters or {}).items():
        given = list(given)
        if given:
            merged[key] = given
    columns = tuple(chosen.get("columns") or DEFAULT_COLUMNS)
    keys = [*columns, *shown, *sort, *as_list(chosen.get("sort"))]
    asked = {k.lstrip("-+").removesuffix(":desc").removesuffix(":asc") for k in keys}
    asked |= {"tags" if k == "tag" else k for k in merged}
    whole = not facts.covers("opportunities", asked - DERIVED - {"days_in_stage"})
    table = FactTable.of_records("opportunities", repo.records("opportunities")) if whole else None
    deals = Deals(repo, table)
    values = Values(repo, deals, days)
    order = _select(deals, merged)
    order = _sorted(values, order, list(sort) or as_list(chosen.get("sort")) or ["id"])
    rates = rates_from(repo.catalog("currencies").values())
    total, total_weighted = Total(repo.config.currency, rates), Total(repo.config.currency, rates)
    add_amounts(total, deals.amount, deals.currency, order)
    add_amounts(total_weighted, deals.weighted, deals.currency, order)
    result = Listing(values, order, columns, total, total_weighted, chosen.get("id"))
    result.left_out = repo.unreadable_in("opportunities")  # (in neither rows nor totals)
    return result


def _select(deals: Deals, filters: Mapping[str, Sequence[str]]) -> list[int]:
    """The deals every filter keeps (:func:`~crmfiles.reports.pipeline.matches`)."""
    order = list(range(len(deals)))
    for key, wanted in filters.items():
        if not wanted:
            continue
        if key == "tag":
            tags = deals.column("tags")
            order = [
                i for i in order if isinstance(tags[i], list) and any(t in wanted for t in tags[i])
            ]
        elif key == "closed":
            lowered = {w.lower() for w in wanted}
            closed = deals.column("closed")
            order = [i for i in order if str(bool(closed[i])).lower() in lowered]
        else:
            accepted = set(wanted)
            column = deals.column(key)
            order = [i for i in order if str(column[i]) in accepted]
    return order


def _sorted(values: Values, order: list[int], keys: Sequence[str]) -> list[int]:
    """:func:`~crmfiles.reports.pipeline.sort_rows` of the selected deals: the same
    order (a stable sort on the same keys), with plain keys where a column holds only
    text or only whole numbers and amounts."""
    out = order
    for key in reversed(keys):
        descending = key.startswith("-") or key.endswith(":desc")
        name = key.lstrip("-+").removesuffix(":desc").removesuffix(":asc")
        column = values(name)
        present = [i for i in out if column[i] is not None]
        missing = [i for i in out if column[i] is None]
        kinds = {type(column[i]) for i in present}
        if kinds <= {str}:  # (1, 0, folded) for every one: the folded text decides
            if len(present) < len(column):
                folded: Any = {i: column[i].casefold() for i in present}
            else:  # every deal is listed and has one: folded by position, in C
                folded = list(map(str.casefold, column))
            present.sort(key=folded.__getitem__, reverse=descending)
        elif kinds <= {int, Decimal}:  # (0, the number, "") for every one
            present.sort(key=column.__getitem__, reverse=descending)
        else:
            present.sort(key=lambda i: _sort_key(column[i]), reverse=descending)
        out = present + missing
    return out
