"""Bars for the funnel and forecast screens from :mod:`crmfiles.reports` (the same
figures as ``crm report funnel`` and ``crm report forecast``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crmfiles.money import Total, fmt
from crmfiles.records.store import Repository
from crmfiles.reports.forecast import forecast
from crmfiles.reports.funnel import funnel
from crmfiles.tui.widgets.bars import Bar


def _in_base(total: Total) -> Decimal:
    value = total.in_base
    return value if value is not None else Decimal(0)


def _note(total: Total) -> str:
    return f"{fmt(_in_base(total))} {total.base}"


def funnel_bars(repo: Repository, kind: str | None) -> tuple[str, list[Bar], str]:
    """The kind shown, a bar per stage (amount, weighted over it), and a note."""
    result = funnel(repo, kind)
    bars = [
        Bar(
            line.name,
            _in_base(line.bucket.amount),
            _in_base(line.bucket.weighted),
            note=f"{line.bucket.count:>4} opp.",
        )
        for line in result.stages
    ]
    note = (
        f"open {result.open.count} ({_note(result.open.amount)}, weighted "
        f"{_note(result.open.weighted)}) · won {result.won.count} ({_note(result.won.amount)})"
        f" · lost {result.lost.count} ({_note(result.lost.amount)})"
    )
    missing = sorted({c for t in result.totals() for c in t.missing_rates})
    if missing:
        note += f" · no rate for {', '.join(missing)}: left out"
    return result.kind, bars, note


def forecast_bars(repo: Repository, today: dt.date) -> tuple[list[Bar], str]:
    result = forecast(repo, today=today)
    bars = [
        Bar(
            month.month,
            _in_base(month.open.amount),
            _in_base(month.open.weighted),
            note=(f"{month.overdue} late, " if month.overdue else "") + f"{month.open.count} open",
        )
        for month in result.months
        if month.open.count
    ]
    weighted = sum((_in_base(m.open.weighted) for m in result.months), Decimal(0))
    note = f"weighted total {fmt(weighted)} {repo.config.currency}"
    if result.overdue:
        note += f" · {result.overdue} open past their expected close"
    if result.undated.count:
        note += f" · {result.undated.count} open without an expected close"
    return bars, note
