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
from crmfiles.records import iso_date
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total
from crmfiles.reports.funnel import Bucket, closed_on
from crmfiles.reports.pipeline import rows


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
    for row in rows(repo):
        data = row.record.data
        if kind is not None and data.get("kind") != kind:
            continue
        status = data.get("status")
        if status == "won":
            day = closed_on(row)
            if day is not None:
                _month_of(months, _month(day), bucket).won.add(row)
            continue
        if status != "in_progress" or data.get("closed") is True:
            continue
        expected = iso_date(data.get("expected_close"))
        if expected is None:
            undated.add(row)
            continue
        month = _month_of(months, _month(expected), bucket)
        month.open.add(row)
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
