"""The forecast: open opportunities by month of expected close (count, amount,
weighted), and what was won in each month beside it.

With a period, only months that overlap it are shown; without one, every month that
has an open opportunity or a win.  Open opportunities with no expected close are
counted apart (``undated``); those whose expected close has passed stay in their month
and are counted as ``overdue`` too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmfiles.money import Total, plain
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total
from crmfiles.reports.deals import Deals, dates
from crmfiles.reports.funnel import Bucket


@dataclass
class Month:
    month: str  # YYYY-MM
    open: Bucket
    won: Bucket
    overdue: int = 0  # open ones expected to close before today


@dataclass
class Forecast:
    kind: str | None
    period: Period
    months: list[Month]
    undated: Bucket
    overdue: int
    today: dt.date

    def totals(self) -> list[Total]:
        out = [self.undated.amount, self.undated.weighted]
        for m in self.months:
            out += [m.open.amount, m.open.weighted, m.won.amount]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "forecast",
            "kind": self.kind,
            "months": [
                {
                    "month": m.month,
                    "count": m.open.count,
                    "amount": money(m.open.amount),
                    "weighted": money(m.open.weighted),
                    "overdue": m.overdue,
                    "won_count": m.won.count,
                    "won": money(m.won.amount),
                }
                for m in self.months
            ],
            "undated": {
                "count": self.undated.count,
                "amount": money(self.undated.amount),
                "weighted": money(self.undated.weighted),
            },
            "overdue": self.overdue,
            "today": self.today.isoformat(),
            "period": self.period.as_dict(),
            **money_note(self.totals()),
        }


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _overlaps(month: str, period: Period) -> bool:
    year, number = int(month[:4]), int(month[5:])
    first = dt.date(year, number, 1)
    last = (dt.date(year + number // 12, number % 12 + 1, 1)) - dt.timedelta(days=1)
    return (period.start is None or last >= period.start) and (
        period.end is None or first <= period.end
    )


def forecast(
    repo: Repository,
    kind: str | None = None,
    period: Period | None = None,
    today: dt.date | None = None,
) -> Forecast:
    period = period or Period()
    today = today or dt.date.today()

    def bucket() -> Bucket:
        return Bucket(0, new_total(repo), new_total(repo))

    months: dict[str, Month] = {}
    undated = bucket()
    deals = Deals(repo)
    closed_on, expected_close = deals.closed_on, dates(deals.column("expected_close"))
    amounts, weights, currencies = deals.amount, deals.weighted, deals.currency
    names: dict[dt.date, str] = {}  # each day's month, named once
    for i, (kind_of, status, closed) in enumerate(
        zip(deals.column("kind"), deals.column("status"), deals.column("closed"), strict=True)
    ):
        if kind is not None and kind_of != kind:
            continue
        if status == "won":
            day = closed_on[i]
            if day is not None:
                key = names.get(day) or names.setdefault(day, _month(day))
                _month_of(months, key, bucket).won.add(amounts[i], weights[i], currencies[i])
            continue
        if status != "in_progress" or closed is True:
            continue
        expected = expected_close[i]
        if expected is None:
            undated.add(amounts[i], weights[i], currencies[i])
            continue
        key = names.get(expected) or names.setdefault(expected, _month(expected))
        month = _month_of(months, key, bucket)
        month.open.add(amounts[i], weights[i], currencies[i])
        month.overdue += expected < today
    shown = [months[k] for k in sorted(months) if _overlaps(k, period)]
    return Forecast(kind, period, shown, undated, sum(m.overdue for m in shown), today)


def _month_of(months: dict[str, Month], key: str, bucket: Callable[[], Bucket]) -> Month:
    """The month ``key``, made (with its buckets) the first time it is asked for."""
    month = months.get(key)
    if month is None:
        month = months[key] = Month(key, bucket(), bucket())
    return month


def compare(this: Forecast, other: Forecast, rev: str, commit: str) -> dict[str, Any]:
    """``--compare REV``: per month, this revision's weighted forecast beside REV's and
    the difference (this minus REV); every month either has, in order."""
    mine = {m.month: m for m in this.months}
    theirs = {m.month: m for m in other.months}

    def weighted_of(month: Month | None) -> Decimal | None:
        return Decimal(0) if month is None else month.open.weighted.in_base

    rows = []
    total_this, total_other = Decimal(0), Decimal(0)
    for key in sorted(set(mine) | set(theirs)):
        a, b = weighted_of(mine.get(key)), weighted_of(theirs.get(key))
        if a == 0 and b == 0:
            continue  # a month of wins only, on both sides
        rows.append(
            {
                "month": key,
                "weighted": plain(a),
                "compare_weighted": plain(b),
                "difference": plain(a - b) if a is not None and b is not None else None,
            }
        )
        total_this += a or 0
        total_other += b or 0
    return {
        "rev": rev,
        "commit": commit,
        "months": rows,
        "total": {
            "weighted": plain(total_this),
            "compare_weighted": plain(total_other),
            "difference": plain(total_this - total_other),
        },
    }
