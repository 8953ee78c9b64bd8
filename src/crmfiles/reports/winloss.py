"""Win/loss: the closed opportunities by loss reason, by competitor and by responsible
person — counts, amounts in the base currency, and win rates.

With a period, the opportunities closed in it (``closed_on``, else
``expected_close``).  A competitor counts on every closed deal that lists it; it took
the deal when the deal was lost and its ``outcome`` is ``won``.  Win rates are by
count: won / (won + lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmfiles.money import Total
from crmfiles.records import facts
from crmfiles.records.facts_table import MISSING
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period, money, money_note, new_total, ratio
from crmfiles.reports.deals import Deals, add_amounts

# a group's deals: (the won ones, the lost ones), as indices among all
Groups = dict[str, tuple[list[int], list[int]]]


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

    deals = Deals(repo)
    status = deals.column("status")
    chosen = [i for i, s in enumerate(status) if s == "won" or s == "lost"]
    if kind is not None:
        kinds = deals.column("kind")
        chosen = [i for i in chosen if kinds[i] == kind]
    if not period.open:
        closed_on = deals.closed_on
        chosen = [i for i in chosen if closed_on[i] in period]
    # each group's deals (indices), won and lost: tallied a group at a time below
    total: Groups = {"": ([], [])}
    by_reason: Groups = {}
    by_competitor: Groups = {}
    by_responsible: Groups = {}
    lost_to: dict[str, int] = {}
    responsible, reason_of = deals.column("responsible"), deals.column("loss_reason")
    competitors = deals.table.values(facts.COMPETITORS)
    whole = deals.column("competitors")  # (facts keep the reduced form)
    for i in chosen:
        lost = status[i] == "lost"
        total[""][lost].append(i)
        by_responsible.setdefault(str(responsible[i] or ""), ([], []))[lost].append(i)
        if lost:
            by_reason.setdefault(str(reason_of[i] or ""), ([], []))[1].append(i)
        kept = competitors[i]
        for competitor in (whole[i] if kept is MISSING else kept) or []:
            if not isinstance(competitor, dict) or not competitor.get("partner"):
                continue
            pid = str(competitor["partner"])
            by_competitor.setdefault(pid, ([], []))[lost].append(i)
            if lost and competitor.get("outcome") == "won":
                lost_to[pid] = lost_to.get(pid, 0) + 1
    amounts, currencies = deals.amount, deals.currency

    def tallied(
        groups: Groups, names: dict[str, str], took: dict[str, int] | None = None
    ) -> dict[str, Tally]:
        out = {}
        for key, (won, lost) in groups.items():
            out[key] = entry = tally(key, names.get(key, key))
            entry.won, entry.lost = len(won), len(lost)
            entry.lost_to = (took or {}).get(key, 0)
            assert entry.won_amount is not None and entry.lost_amount is not None
            add_amounts(entry.won_amount, amounts, currencies, won)
            add_amounts(entry.lost_amount, amounts, currencies, lost)
        return out

    every = tallied(total, {})[""]
    reason_tallies = tallied(by_reason, reasons)
    competitor_tallies = tallied(by_competitor, partners, lost_to)
    responsible_tallies = tallied(by_responsible, people)
    return WinLoss(
        period,
        kind,
        every,
        sorted(reason_tallies.values(), key=lambda t: (-t.lost, t.key)),
        sorted(competitor_tallies.values(), key=lambda t: (-(t.won + t.lost), t.key)),
        sorted(responsible_tallies.values(), key=lambda t: (-(t.won + t.lost), t.key)),
    )
