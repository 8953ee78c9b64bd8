"""What every report shares: the period, the revision it reads, money in the base
currency, and bar charts of unicode blocks."""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.errors import CrmError
from crmfiles.money import Total, plain, rates_from
from crmfiles.records.gitsources import Revision
from crmfiles.records.store import Repository

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Period:
    """``--from`` / ``--to``: both ends included; either may be open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        if isinstance(day, dt.datetime):
            day = day.date()
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    @property
    def open(self) -> bool:
        return self.start is None and self.end is None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CrmError(f"{option} {value!r}: not a date", hint="write it as YYYY-MM-DD") from None


def period(start: str | None, end: str | None) -> Period:
    result = Period(parse_date(start, "--from"), parse_date(end, "--to"))
    if result.start and result.end and result.start > result.end:
        raise CrmError("--from is after --to")
    return result


@dataclass(frozen=True)
class ReportedRevision:
    """The revision a report reads: the work tree (``commit`` None), or a commit."""

    repo: Repository
    commit: str | None  # None: the work tree
    today: dt.date  # "now" for ages and days: the --at date, the commit's date, or today
    label: str  # what to print: "work tree", or the --at argument and the commit


def snapshot(root: Path, at: str | None) -> ReportedRevision:
    """``--at DATE|REV``: a date is the last commit of the first-parent chain on or
    before the end of that day (``git rev-list -1 --first-parent --before=``)."""
    if at is None:
        return ReportedRevision(Repository(root), None, dt.date.today(), "work tree")
    if _DATE.match(at):
        day = parse_date(at, "--at")
        found = git.out(
            ["rev-list", "-1", "--first-parent", f"--before={at}T23:59:59", "HEAD"], root
        ).strip()
        if not found:
            raise CrmError(f"no commit on or before {at}", hint="the history starts later")
        assert day is not None
        return ReportedRevision(
            Repository(root, Revision(root, found)), found, day, f"{at} ({found[:9]})"
        )
    commit = git.resolve(at, root)
    stamp = git.out(["show", "-s", "--format=%cs", commit], root).strip()
    day = parse_date(stamp, "--at") or dt.date.today()
    return ReportedRevision(
        Repository(root, Revision(root, commit)), commit, day, f"{at} ({commit[:9]})"
    )


_RATES: weakref.WeakKeyDictionary[Repository, dict[str, Decimal]] = weakref.WeakKeyDictionary()


def new_total(repo: Repository) -> Total:
    """An empty total in the repository's currency (its rates read once per repository:
    a report makes one per bucket)."""
    rates = _RATES.get(repo)
    if rates is None:
        rates = _RATES[repo] = rates_from(repo.catalog("currencies").values())
    return Total(repo.config.currency, rates)


def money(total: Total) -> str | None:
    """A total as a decimal string in the base currency (None when a rate is missing)."""
    return plain(total.in_base)


def money_note(totals: Iterable[Total]) -> dict[str, Any]:
    """What every money-bearing JSON report says beside its figures."""
    totals = list(totals)
    base = totals[0].base if totals else ""
    converted = sorted({c for t in totals for c in t.by_currency if c != base})
    missing = sorted({c for t in totals for c in t.missing_rates})
    return {"currency": base, "converted": converted, "missing_rates": missing}


BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: Decimal | int | float | None, largest: Decimal | int | float, width: int) -> str:
    """``value`` as a bar of unicode blocks, ``width`` cells for ``largest``."""
    if not value or not largest or value <= 0:
        return ""
    eighths = round(float(value) / float(largest) * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return "█" * full + (BLOCKS[part] if part else "")


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percent(value: float | None) -> str:
    """A ratio for people: ``0.4167`` is ``42%``; none is blank."""
    return "" if value is None else f"{value * 100:.0f}%"
