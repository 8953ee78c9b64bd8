"""What the report screens draw, from :mod:`crmfiles.reports`: bars for the funnel
and forecast, tables for drop-off and win/loss (the same figures as ``crm report
funnel|forecast|dropoff|winloss``; nothing is computed here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from crmfiles.money import Total, fmt
from crmfiles.records.store import Repository
from crmfiles.reports.common import bar, percent, ratio
from crmfiles.reports.forecast import forecast
from crmfiles.reports.funnel import funnel
from crmfiles.tui.widgets.bars import Bar

if TYPE_CHECKING:
    from crmfiles.history import History, Summary

DROP_BAR = 30  # cells for the stage most reached, at most


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


def _table(*columns: str, numeric: tuple[str, ...] = ()) -> Table:
    """A plain table whose figures and headings are never cut."""
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for column in columns:
        right = column in numeric
        table.add_column(
            column, justify="right" if right else "left", no_wrap=True, min_width=len(column)
        )
    return table


def _amount(total: Total | None) -> str:
    if total is None or not total.by_currency:
        return ""
    value = total.in_base
    return "?" if value is None else fmt(value)


def dropoff_view(
    repo: Repository, history: Summary | History, kind: str | None, width: int = 100
) -> tuple[str, RenderableType]:
    """``crm report dropoff``'s table: the kind shown and the table of its stages; its
    bars as long as ``width`` cells leave room for (the figures are never cut)."""
    from crmfiles.reports.dropoff import dropoff  # (reads history: loaded when drawn)

    result = dropoff(repo, history, kind)
    table = _table(
        "Stage",
        "Reached",
        "",
        "Lost here",
        "Open here",
        "To next",
        numeric=("Reached", "Lost here", "Open here", "To next"),
    )
    largest = max((s.reached for s in result.stages), default=0)
    names = max((len(s.name) for s in result.stages), default=5)
    cells = max(min(width - names - 50, DROP_BAR), 4)
    for stage in result.stages:
        table.add_row(
            Text(stage.name),
            str(stage.reached),
            Text(bar(stage.reached, largest, cells), style="cyan"),
            str(stage.lost or ""),
            str(stage.open or ""),
            percent(stage.conversion),
        )
    rate = percent(ratio(result.won, result.won + result.lost)) or "n/a"
    note = Text(
        f"{result.total} opportunities: won {result.won}, lost {result.lost}, "
        f"open {result.open}; win rate {rate}. To next: the share of those that reached a "
        "stage that reached the next (from the last, that were won).",
        style="dim",
    )
    return result.kind, Group(table, Text(""), note)


def winloss_view(repo: Repository, kind: str | None) -> RenderableType:
    """``crm report winloss``'s tables: by loss reason, competitor and responsible."""
    from crmfiles.reports.winloss import winloss

    result = winloss(repo, kind)
    total = result.total
    rate = percent(total.win_rate) or "n/a"
    currency = repo.config.currency
    head = Text()
    head.append(f"won {total.won}", style="bold green")
    head.append(f" ({_amount(total.won_amount) or 0} {currency})   ")
    head.append(f"lost {total.lost}", style="bold red")
    head.append(f" ({_amount(total.lost_amount) or 0} {currency})   ")
    head.append(f"win rate {rate}", style="bold")
    parts: list[RenderableType] = [head]
    if result.by_reason:
        table = _table("Loss reason", "Lost", "Amount", numeric=("Lost", "Amount"))
        for r in result.by_reason:
            table.add_row(Text(r.name or "(none)"), str(r.lost), _amount(r.lost_amount))
        parts += [Text(""), table]
    if result.by_competitor:
        numbers = ("Deals", "We won", "We lost", "They took", "Win rate")
        table = _table("Competitor", *numbers, numeric=numbers)
        for c in result.by_competitor:
            table.add_row(
                Text(c.name),
                str(c.won + c.lost),
                str(c.won),
                str(c.lost),
                str(c.lost_to),
                percent(c.win_rate),
            )
        parts += [Text(""), table]
    if result.by_responsible:
        numbers = ("Won", "Amount won", "Lost", "Amount lost", "Win rate")
        table = _table("Responsible", *numbers, numeric=numbers)
        for p in result.by_responsible:
            table.add_row(
                Text(p.name or "(none)"),
                str(p.won),
                _amount(p.won_amount),
                str(p.lost),
                _amount(p.lost_amount),
                percent(p.win_rate),
            )
        parts += [Text(""), table]
    missing = sorted({c for t in result.totals() for c in t.missing_rates})
    note = f"amounts in {currency}; win rate by count: won / (won + lost)"
    if missing:
        note += f"; no rate for {', '.join(missing)}: those totals show ?"
    parts += [Text(""), Text(note, style="dim")]
    return Group(*parts)
