"""The money a change moves: the open pipeline per stage and in total before and after
it, and the deals it won and lost (the top of ``crm lint --summary`` and ``crm changes``).

The head's pipeline is summed from the facts of the head's opportunities
(:mod:`crmfiles.records.facts`, from the warm cache: only the files git says changed
since the cache's tree are parsed); the base's is the head's with each opportunity the
range changed put back as it was before the range (its first step's old data, which
the lint read already), so the base needs no second read of the repository.  Amounts
are in the base currency (crm.yaml ``currency``), converted at the rates of the
``currencies`` catalog; an amount in a currency without a rate is left out and its
currency named in ``missing_rates``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress
from typing import Any

from crmfiles.money import amount_of, fmt, plain, rates_from, to_cent, weighted
from crmfiles.records.facts_table import FactTable
from crmfiles.reports.deals import Deals
from crmfiles.rules.base import Context, IdIndex
from crmfiles.rules.step import Step

CLOSED = ("won", "lost")
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
ZERO = Decimal(0)
# what an open opportunity adds to the pipeline: its stage, amount and weighted amount
Contribution = tuple[str, Decimal, Decimal]


@dataclass
class StageMoney:
    stage: str
    name: str
    open_before: Decimal = ZERO
    open_after: Decimal = ZERO
    weighted_before: Decimal = ZERO
    weighted_after: Decimal = ZERO

    @property
    def open_change(self) -> Decimal:
        return self.open_after - self.open_before

    @property
    def weighted_change(self) -> Decimal:
        return self.weighted_after - self.weighted_before


@dataclass
class Closed:
    id: str
    name: str
    status: str
    amount: Decimal | None
    currency: str
    reason: str | None


@dataclass
class Delta:
    currency: str
    stages: list[StageMoney]
    total: StageMoney
    won: list[Closed] = field(default_factory=list)
    lost: list[Closed] = field(default_factory=list)
    missing_rates: list[str] = field(default_factory=list)

    def headlines(self) -> list[str]:
        """ "+€120,000.00 weighted in Negotiation": the stages whose weighted pipeline
        moved, largest change first; then what was won and lost."""
        lines = [
            f"{signed(s.weighted_change, self.currency)} weighted in {s.name}"
            for s in sorted(self.stages, key=lambda s: (-abs(s.weighted_change), s.stage))
            if s.weighted_change
        ]
        for label, deals in (("won", self.won), ("lost", self.lost)):
            if deals:
                amount = sum((d.amount or ZERO for d in deals if d.currency == self.currency), ZERO)
                count = f"{len(deals)} deal{'s' if len(deals) != 1 else ''}"
                lines.append(f"{count} {label}: {money(amount, self.currency)}")
        return lines

    def as_dict(self) -> dict[str, Any]:
        def row(s: StageMoney) -> dict[str, Any]:
            return {
                "stage": s.stage,
                "name": s.name,
                "open_before": plain(s.open_before),
                "open_after": plain(s.open_after),
                "open_change": plain(s.open_change),
                "weighted_before": plain(s.weighted_before),
                "weighted_after": plain(s.weighted_after),
                "weighted_change": plain(s.weighted_change),
            }

        def deal(d: Closed) -> dict[str, Any]:
            return {
                "id": d.id,
                "name": d.name,
                "amount": plain(d.amount),
                "currency": d.currency,
                "reason": d.reason,
            }

        total = row(self.total)
        del total["stage"], total["name"]
        return {
            "currency": self.currency,
            "stages": [row(s) for s in self.stages],
            "total": total,
            "won": [deal(d) for d in self.won],
            "lost": [deal(d) for d in self.lost],
            "missing_rates": self.missing_rates,
        }


def money(amount: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{fmt(amount)}" if symbol else f"{fmt(amount)} {currency}"


def signed(amount: Decimal, currency: str) -> str:
    sign = "+" if amount >= 0 else "−"
    return sign + money(abs(amount), currency)


def _open(status: Any, closed: Any, stage: Any) -> bool:
    return status not in CLOSED and closed is not True and isinstance(stage, str)


class _Purse:
    """What one opportunity adds to the pipeline, in the base currency."""

    def __init__(self, base: str, rates: Mapping[str, Decimal], products: Mapping[str, Any]):
        self.base, self.rates, self.products = base, rates, products
        self.missing: set[str] = set()

    def convert(self, amount: Decimal | None, currency: Any) -> Decimal | None:
        code = currency if isinstance(currency, str) and currency else self.base
        if amount is None:
            return None
        if code == self.base:
            return amount
        if code not in self.rates:
            self.missing.add(code)
            return None
        return to_cent(amount * self.rates[code])

    def of(self, data: Mapping[str, Any] | None) -> Contribution | None:
        if data is None or not _open(data.get("status"), data.get("closed"), data.get("stage")):
            return None
        amount = amount_of(data, self.products)
        return self.counted(data["stage"], amount, data.get("currency"), data.get("probability"))

    def counted(
        self, stage: str, amount: Decimal | None, currency: Any, probability: Any
    ) -> Contribution | None:
        """An open opportunity's stage, amount and weighted amount in the base currency
        (None: no amount, or no rate for its currency)."""
        converted = self.convert(amount, currency)
        if converted is None:
            return None
        return stage, converted, weighted(converted, probability) or ZERO


def ends(steps: Sequence[Step]) -> dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Each opportunity the steps changed: as it was before the first, after the last."""
    out: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for step in steps:
        for change in step.changes:
            if change.folder == "opportunities":
                first = out[change.id][0] if change.id in out else change.old
                out[change.id] = (first, change.new)
    return out


def delta(steps: Sequence[Step], ctx: Context, table: FactTable | None = None) -> Delta:
    """The money ``steps`` move, ``ctx`` the head they end at (as ``crm lint`` checked
    it); ``table``: the head's opportunities, when not those of the facts cache."""
    base = ctx.config.currency
    rates = rates_from(ctx.catalogs.get("currencies", {}).values())
    purse = _Purse(base, rates, ctx.catalogs.get("products", {}))
    names = {k: str(v.get("name") or k) for k, v in ctx.catalogs.get("stages", {}).items()}
    stages: dict[str, StageMoney] = {k: StageMoney(k, n) for k, n in names.items()}

    def entry(stage: str) -> StageMoney:
        return stages.setdefault(stage, StageMoney(stage, names.get(stage, stage)))

    changed = ends(steps)
    for stage, pile in _head(ctx, purse, table, changed):
        money = entry(stage)
        money.open_after = sum(pile.amounts, ZERO)
        money.weighted_after = sum(pile.weights, ZERO)
        if pile.changed:  # the base has these as they were before the range (below)
            unchanged = [i not in pile.changed for i in range(len(pile.amounts))]
            money.open_before = sum(compress(pile.amounts, unchanged), ZERO)
            money.weighted_before = sum(compress(pile.weights, unchanged), ZERO)
        else:
            money.open_before, money.weighted_before = money.open_after, money.weighted_after
    won: list[Closed] = []
    lost: list[Closed] = []
    for rid, (before, after) in sorted(changed.items()):
        contribution = purse.of(before)
        if contribution is not None:
            stage, amount, weight = contribution
            money = entry(stage)
            money.open_before += amount
            money.weighted_before += weight
        status = (after or {}).get("status")
        if status in CLOSED and (before or {}).get("status") != status:
            assert after is not None
            closed = Closed(
                rid,
                str(after.get("name") or rid),
                str(status),
                amount_of(after, purse.products),
                str(after.get("currency") or base),
                str(after["loss_reason"]) if after.get("loss_reason") else None,
            )
            (won if status == "won" else lost).append(closed)
    shown = [s for s in stages.values() if _any(s)]
    total = StageMoney("total", "Total")
    for s in shown:
        total.open_before += s.open_before
        total.open_after += s.open_after
        total.weighted_before += s.weighted_before
        total.weighted_after += s.weighted_after
    return Delta(base, shown, total, won, lost, sorted(purse.missing))


@dataclass
class _Pile:
    """What the head's open opportunities in one stage add: amounts and weighted
    amounts in the base currency, and which of them the range changed (by position)."""

    # where the first of them comes in path order: (its row, 1) in the fact table,
    # (the row its path comes before, 0) for a file the table leaves out
    first: tuple[int, int]
    amounts: list[Decimal] = field(default_factory=list)
    weights: list[Decimal] = field(default_factory=list)
    changed: set[int] = field(default_factory=set)

    def add(self, amount: Decimal, weight: Decimal, changed: bool) -> None:
        if changed:
            self.changed.add(len(self.amounts))
        self.amounts.append(amount)
        self.weights.append(weight)


def _head(
    ctx: Context, purse: _Purse, table: FactTable | None, changed: Mapping[str, Any]
) -> list[tuple[str, _Pile]]:
    """The head's open opportunities (every readable record file, as the checker lists
    them) summed per stage, the stages in the order their first file comes in: read
    from the facts, column by column (no object per deal)."""
    repo = ctx.repository()
    if table is None:
        table = repo.fact_table("opportunities")
    deals = Deals(repo, table)
    amounts, weights = deals.amount, deals.weighted
    stage, currency, probability = (table.column(n) for n in ("stage", "currency", "probability"))
    base, moved = purse.base, _rows(table, changed)
    piles: dict[str, _Pile] = {}
    for i in [
        i
        for i, (status, closed, at) in enumerate(
            zip(table.column("status"), table.column("closed"), stage, strict=True)
        )
        if _open(status, closed, at)
    ]:
        amount = amounts[i]
        if amount is None:
            continue
        code = currency[i]
        if isinstance(code, str) and code and code != base:
            amount = purse.convert(amount, code)
            if amount is None:
                continue
            weight = weighted(amount, probability[i]) or ZERO
        else:  # the weighted amount the facts keep is the base currency's
            weight = weights[i] or ZERO
        pile = piles.get(stage[i]) or piles.setdefault(stage[i], _Pile((i, 1)))
        pile.add(amount, weight, i in moved)
    for f in ctx.doubles("opportunities", table):  # a second file of an id counts too
        contribution = purse.of(f.data)
        if contribution is not None:
            at, amount, weight = contribution
            first = (bisect_left(table.paths, f.path), 0)
            pile = piles.setdefault(at, _Pile(first))
            pile.first = min(pile.first, first)
            pile.add(amount, weight, f.place.id in changed)
    return sorted(piles.items(), key=lambda item: item[1].first)


def _rows(table: FactTable, ids: Iterable[str]) -> set[int]:
    """The rows of these ids in the table (its paths are read only when some are asked
    for: a work tree with no change needs none)."""
    wanted = list(ids)
    if not wanted:
        return set()
    paths = table.paths
    index = IdIndex(paths)
    found = [index.get(rid) for rid in wanted]
    return {bisect_left(paths, path) for path in found if path is not None}


def _any(s: StageMoney) -> bool:
    return any((s.open_before, s.open_after, s.weighted_before, s.weighted_after))


def markdown(found: Delta) -> list[str]:
    """The delta as Markdown lines: headlines, the table per stage, won and lost."""
    lines = ["### Pipeline", ""]
    headlines = found.headlines()
    lines += [f"- **{h}**" for h in headlines] or ["- the open pipeline did not change"]
    c = found.currency
    lines += [
        "",
        "| stage | open before | open after | change | weighted before | weighted after | change |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in [*found.stages, found.total]:
        label = f"**{s.name}**" if s is found.total else s.name
        lines.append(
            f"| {label} | {money(s.open_before, c)} | {money(s.open_after, c)} | "
            f"{_change(s.open_change, c)} | {money(s.weighted_before, c)} | "
            f"{money(s.weighted_after, c)} | {_change(s.weighted_change, c)} |"
        )
    for label, deals in (("Won", found.won), ("Lost", found.lost)):
        if deals:
            lines += ["", f"{label}:", ""]
            lines += [_deal(d) for d in deals]
    if found.missing_rates:
        lines += [
            "",
            f"Left out (no rate in catalogs/currencies.yaml): {', '.join(found.missing_rates)}.",
        ]
    return lines


def _change(amount: Decimal, currency: str) -> str:
    return signed(amount, currency) if amount else "–"


def _deal(d: Closed) -> str:
    amount = money(d.amount, d.currency) if d.amount is not None else "no amount"
    reason = f" ({d.reason})" if d.reason else ""
    return f"- {d.name} (`{d.id}`): {amount}{reason}"


def text(found: Delta) -> Iterable[str]:
    """The delta for a terminal: headlines, then before → after per stage."""
    c = found.currency
    yield from found.headlines()
    for s in [*found.stages, found.total]:
        yield (
            f"  {s.name}: open {money(s.open_before, c)} → {money(s.open_after, c)}, "
            f"weighted {money(s.weighted_before, c)} → {money(s.weighted_after, c)}"
        )
    for d in [*found.won, *found.lost]:
        amount = money(d.amount, d.currency) if d.amount is not None else "no amount"
        reason = f" ({d.reason})" if d.reason else ""
        yield f"  {d.status}: {d.name} ({d.id}), {amount}{reason}"
