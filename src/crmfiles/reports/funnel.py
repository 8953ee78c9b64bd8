"""The funnel: open opportunities of one kind per stage, with won and lost beside them.

With a period, the open opportunities are those expected to close in it (those with
no expected close are left out and counted as ``undated``), and won and lost are those
closed in it (``closed_on``, else ``expected_close``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.money import Total
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total
from crmfiles.reports.deals import Deals, dates

ZERO = Decimal(0)


@dataclass
class Bucket:
    """A count with its amounts (weighted is only kept for open opportunities)."""

    count: int
    amount: Total
    weighted: Total

    def add(self, amount: Decimal | None, weighted: Decimal | None, currency: str) -> None:
        """One deal (:meth:`crmfiles.money.Total.add` of each, inlined: a report adds
        100,000 of them)."""
        self.count += 1
        if amount is not None:
            sums = self.amount.by_currency
            sums[currency] = sums.get(currency, ZERO) + amount
        if weighted is not None:
            sums = self.weighted.by_currency
            sums[currency] = sums.get(currency, ZERO) + weighted


@dataclass
class StageLine:
    stage: str
    name: str
    bucket: Bucket


@dataclass
class Funnel:
    kind: str
    kind_name: str
    period: Period
    stages: list[StageLine]
    open: Bucket
    won: Bucket
    lost: Bucket
    undated: int = 0
    off_stage: int = 0  # open ones whose stage is not one of the kind's
    other_kinds: list[str] = field(default_factory=list)

    def totals(self) -> list[Total]:
        buckets = [s.bucket for s in self.stages] + [self.open, self.won, self.lost]
        return [t for b in buckets for t in (b.amount, b.weighted)]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "funnel",
            "kind": self.kind,
            "stages": [
                {
                    "stage": s.stage,
                    "count": s.bucket.count,
                    "amount": money(s.bucket.amount),
                    "weighted": money(s.bucket.weighted),
                }
                for s in self.stages
            ],
            "open": _bucket_json(self.open, weighted=True),
            "won": _bucket_json(self.won),
            "lost": _bucket_json(self.lost),
            "undated": self.undated,
            "off_stage": self.off_stage,
            "period": self.period.as_dict(),
            **money_note(self.totals()),
        }


def _bucket_json(bucket: Bucket, *, weighted: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"count": bucket.count, "amount": money(bucket.amount)}
    if weighted:
        out["weighted"] = money(bucket.weighted)
    return out


def staged_kinds(repo: Repository) -> dict[str, dict[str, Any]]:
    """Kinds that have stages, in catalog order."""
    return {
        kid: kind
        for kid, kind in repo.catalog("kinds").items()
        if kind.get("type") != "stageless" and isinstance(kind.get("stages"), list)
    }


def choose_kind(repo: Repository, wanted: str | None, deals: Deals) -> str:
    """``--kind``, or the first kind (in catalog order) with open opportunities."""
    kinds = staged_kinds(repo)
    if wanted is not None:
        catalog = repo.catalog("kinds")
        if wanted not in catalog:
            known = ", ".join(kinds) or "none"
            raise CrmError(f"no kind '{wanted}' in catalogs/kinds.yaml", hint=f"kinds: {known}")
        if wanted not in kinds:
            raise CrmError(f"kind '{wanted}' has no stages, so no funnel")
        return wanted
    if not kinds:
        raise CrmError("no kind in catalogs/kinds.yaml has stages")
    busy = {str(k) for k, o in zip(deals.column("kind"), deals.open, strict=True) if o}
    return next((k for k in kinds if k in busy), next(iter(kinds)))


def funnel(repo: Repository, kind: str | None = None, period: Period | None = None) -> Funnel:
    period = period or Period()
    deals = Deals(repo)
    chosen = choose_kind(repo, kind, deals)
    entry = repo.catalog("kinds")[chosen]
    stage_names = {k: str(v.get("name") or k) for k, v in repo.catalog("stages").items()}

    def bucket() -> Bucket:
        return Bucket(0, new_total(repo), new_total(repo))

    lines = {
        str(s): StageLine(str(s), stage_names.get(str(s), str(s)), bucket())
        for s in entry.get("stages") or []
    }
    result = Funnel(
        chosen,
        str(entry.get("name") or chosen),
        period,
        list(lines.values()),
        bucket(),
        bucket(),
        bucket(),
    )
    result.other_kinds = [k for k in staged_kinds(repo) if k != chosen]
    closed_on = deals.closed_on if not period.open else None
    expected = dates(deals.column("expected_close")) if not period.open else None
    stages, is_open = deals.column("stage"), deals.open
    amounts, weights, currencies = deals.amount, deals.weighted, deals.currency
    won, lost, everything = result.won, result.lost, result.open
    for i, (kind_of, status) in enumerate(
        zip(deals.column("kind"), deals.column("status"), strict=True)
    ):
        if kind_of != chosen:
            continue
        if status == "won" or status == "lost":
            if closed_on is None or closed_on[i] in period:
                (won if status == "won" else lost).add(amounts[i], weights[i], currencies[i])
            continue
        if not is_open[i]:
            continue
        if expected is not None:
            day = expected[i]
            if day is None:
                result.undated += 1
                continue
            if day not in period:
                continue
        line = lines.get(str(stages[i]))
        if line is None:
            result.off_stage += 1
            continue
        line.bucket.add(amounts[i], weights[i], currencies[i])
        everything.add(amounts[i], weights[i], currencies[i])
    return result
