"""Win/loss: the closed opportunities by loss reason, by competitor and by responsible
person — counts, amounts in the base currency, and win rates.

With a period, the opportunities closed in it (``closed_on``, else
``expected_close``).  A competitor counts on every closed deal that lists it; it took
the deal when the deal was lost and its ``outcome`` is ``won``.  Win rates are by
count: won / (won + lost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmfiles.money import Total
from crmfiles.records import facts
from crmfiles.records.facts_table import MISSING
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total, ratio
from crmfiles.reports.deals import Deals


@dataclass
class Tally:
    key: str
    name: str
    won: int = 0
    lost: int = 0
    won_amount: Total | None = None
    lost_amount: Total | None = None
    lost_to: int = 0  # competitors: deals they took from us
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def win_rate(self) -> float | None:
        return ratio(self.won, self.won + self.lost)


@dataclass
class WinLoss:
    period: Period
    kind: str | None
    total: Tally
    by_reason: list[Tally]
    by_competitor: list[Tally]
    by_responsible: list[Tally]

    def totals(self) -> list[Total]:
        out: list[Total] = []
        for tally in [self.total, *self.by_reason, *self.by_competitor, *self.by_responsible]:
            out += [t for t in (tally.won_amount, tally.lost_amount) if t is not None]
        return out

    def as_json(self) -> dict[str, Any]:
        t = self.total
        return {
            "report": "winloss",
            "kind": self.kind,
            "won": {"count": t.won, "amount": _money(t.won_amount)},
            "lost": {"count": t.lost, "amount": _money(t.lost_amount)},
            "win_rate": t.win_rate,
            "by_reason": [
                {"reason": r.key, "name": r.name, "count": r.lost, "amount": _money(r.lost_amount)}
                for r in self.by_reason
            ],
            "by_competitor": [
                {
                    "competitor": c.key,
                    "name": c.name,
                    "deals": c.won + c.lost,
                    "won": c.won,
                    "lost": c.lost,
                    "lost_to": c.lost_to,
                    "win_rate": c.win_rate,
                }
                for c in self.by_competitor
            ],
            "by_responsible": [
                {
                    "person": p.key,
                    "name": p.name,
                    "won": p.won,
                    "won_amount": _money(p.won_amount),
                    "lost": p.lost,
                    "lost_amount": _money(p.lost_amount),
                    "win_rate": p.win_rate,
                }
                for p in self.by_responsible
            ],
            "period": self.period.as_dict(),
            **money_note(self.totals()),
        }


def _money(total: Total | None) -> str | None:
    return money(total) if total is not None else None


def winloss(repo: Repository, kind: str | None = None, period: Period | None = None) -> WinLoss:
    period = period or Period()
    reasons = {k: str(v.get("name") or k) for k, v in repo.catalog("loss-reasons").items()}
    people = {k: str(v.get("name") or k) for k, v in repo.catalog("people").items()}
    partner_facts = repo.fact_table("partners")
    partners = {
        pid: str(name or pid)
        for pid, name in zip(partner_facts.ids, partner_facts.column("name"), strict=True)
    }

    def tally(key: str, name: str) -> Tally:
        return Tally(key, name, won_amount=new_total(repo), lost_amount=new_total(repo))

    total = tally("", "")
    by_reason: dict[str, Tally] = {}
    by_competitor: dict[str, Tally] = {}
    by_responsible: dict[str, Tally] = {}
    deals = Deals(repo)
    closed_on = deals.closed_on if not period.open else None
    amounts, currencies = deals.amount, deals.currency
    competitors = deals.table.values(facts.COMPETITORS)
    whole = deals.column("competitors")  # (facts keep the reduced form)
    responsible, reason_of = deals.column("responsible"), deals.column("loss_reason")
    for i, (kind_of, status) in enumerate(
        zip(deals.column("kind"), deals.column("status"), strict=True)
    ):
        if status not in ("won", "lost") or (kind is not None and kind_of != kind):
            continue
        if closed_on is not None and closed_on[i] not in period:
            continue
        person = str(responsible[i] or "")
        groups = [total, _group(by_responsible, person, people, tally)]
        if status == "lost":
            reason = str(reason_of[i] or "")
            groups.append(_group(by_reason, reason, reasons, tally))
        kept = competitors[i]
        for competitor in (whole[i] if kept is MISSING else kept) or []:
            if not isinstance(competitor, dict) or not competitor.get("partner"):
                continue
            pid = str(competitor["partner"])
            entry = _group(by_competitor, pid, partners, tally)
            groups.append(entry)
            if status == "lost" and competitor.get("outcome") == "won":
                entry.lost_to += 1
        amount, currency = amounts[i], currencies[i]
        for group in groups:
            if status == "won":
                group.won += 1
                assert group.won_amount is not None
                group.won_amount.add(amount, currency)
            else:
                group.lost += 1
                assert group.lost_amount is not None
                group.lost_amount.add(amount, currency)
    return WinLoss(
        period,
        kind,
        total,
        sorted(by_reason.values(), key=lambda t: (-t.lost, t.key)),
        sorted(by_competitor.values(), key=lambda t: (-(t.won + t.lost), t.key)),
        sorted(by_responsible.values(), key=lambda t: (-(t.won + t.lost), t.key)),
    )


def _group(
    groups: dict[str, Tally], key: str, names: dict[str, str], tally: Callable[[str, str], Tally]
) -> Tally:
    """The tally of ``key``, made the first time (two totals: not one per deal)."""
    found = groups.get(key)
    if found is None:
        found = groups[key] = tally(key, names.get(key, key))
    return found
