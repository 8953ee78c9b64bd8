"""The list's selections at speed (crmfiles.tui.selection, crmfiles.tui.totals) held to
the plain way: the rows a search and filters keep, and amounts packed in lanes and
summed at once, equal to each row's amount added in turn."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from test_tui_data import example  # noqa: F401 - the example repository, copied

from crmfiles.money import Total
from crmfiles.records import Record
from crmfiles.reports.pipeline import Row, matches
from crmfiles.tui import selection
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.selection import Picked
from crmfiles.tui.totals import Lanes, add_rows, sum_packed

CODES = ("CHF", "EUR", "USD")


def row(amount: Decimal | None, weighted: Decimal | None, currency: str) -> Row:
    return Row(Record("opportunities", "x", "x.yaml", {}), amount, weighted, currency)


def plain(rows: list[Row]) -> tuple[Total, Total]:
    amount, weighted = Total("EUR", {}), Total("EUR", {})
    for r in rows:
        amount.add(r.amount, r.currency)
        weighted.add(r.weighted, r.currency)
    return amount, weighted


def same(quick: Total, slow: Total) -> None:
    """Equal totals, said the same way (the same currencies, the same digits)."""
    assert quick.by_currency == slow.by_currency
    assert {c: str(v) for c, v in quick.by_currency.items()} == {
        c: str(v) for c, v in slow.by_currency.items()
    }


def random_cents(rng: random.Random) -> Decimal | None:
    pick = rng.random()
    if pick < 0.15:
        return None
    if pick < 0.25:
        return Decimal("0.00")
    if pick < 0.3:
        return Decimal(rng.randrange(-(10**18), 10**18)).scaleb(-2)  # huge and negative
    return Decimal(rng.randrange(-50_000, 5_000_000)).scaleb(-2)


def test_packed_sums_are_the_amounts_added_in_turn() -> None:
    rng = random.Random(14)
    lanes = Lanes.of(CODES)
    for _ in range(200):
        rows = [
            row(random_cents(rng), random_cents(rng), rng.choice(CODES))
            for _ in range(rng.randrange(0, 60))
        ]
        packed = [lanes.pack(r, "EUR") for r in rows]
        assert None not in packed
        chosen = sorted(rng.sample(range(len(rows)), rng.randrange(0, len(rows) + 1)))
        amount, weighted = Total("EUR", {}), Total("EUR", {})
        lanes.unpack(sum_packed(packed, chosen), amount, weighted)  # type: ignore[arg-type]
        slow_amount, slow_weighted = plain([rows[i] for i in chosen])
        same(amount, slow_amount)
        same(weighted, slow_weighted)
        # and the plain loop the fast path falls back to
        loop_amount, loop_weighted = Total("EUR", {}), Total("EUR", {})
        add_rows([rows[i] for i in chosen], loop_amount, loop_weighted)
        same(loop_amount, slow_amount)
        same(loop_weighted, slow_weighted)


def test_a_total_of_nothing_is_not_a_total_of_zero() -> None:
    lanes = Lanes.of(CODES)
    rows = [row(Decimal("0.00"), None, "USD"), row(None, None, "CHF"), row(None, None, "EUR")]
    amount, weighted = Total("EUR", {}), Total("EUR", {})
    lanes.unpack(sum(lanes.pack(r, "EUR") or 0 for r in rows), amount, weighted)
    assert amount.by_currency == {"USD": Decimal("0.00")}
    assert weighted.by_currency == {}


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (Decimal("0.005"), "EUR"),  # not whole cents
        (Decimal(2**62), "EUR"),  # too large for a lane
        (Decimal("1.00"), "JPY"),  # a currency without a lane
    ],
)
def test_a_row_that_cannot_be_packed_is_summed_plainly(
    amount: Decimal, currency: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lanes = Lanes.of(CODES)
    odd = row(amount, None, currency)
    assert lanes.pack(odd, "EUR") is None
    monkeypatch.setattr(selection, "PLAIN", 0)
    from crmfiles.tui.rows import ListRow

    rows = [ListRow(str(i), row(Decimal(i), None, "EUR")) for i in range(5)]
    rows.append(ListRow("odd", odd))
    order = selection.Order(rows, lanes, "EUR")
    assert order.packed is None
    amount_total, weighted_total = Total("EUR", {}), Total("EUR", {})
    order.totals([1, 3, 5], amount_total, weighted_total)
    same(amount_total, plain([rows[1].row, rows[3].row, odd])[0])


def test_picked_reads_the_kept_positions() -> None:
    items = ["a", "b", "c", "d", "e"]
    picked = Picked(items, [0, 2, 3])
    assert list(picked) == ["a", "c", "d"] and len(picked) == 3
    assert picked[1] == "c" and picked[-1] == "d" and picked[:2] == ["a", "c"]
    assert picked.index("d") == 2 and "c" in picked and "b" not in picked
    with pytest.raises(ValueError):
        picked.index("b")
    with pytest.raises(ValueError):
        picked.index("z")


@pytest.mark.parametrize("plain_below", [0, 10**9])
def test_select_is_the_plain_filter_search_and_sum(
    example: Path,  # noqa: F811
    plain_below: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every selection, packed or plain, is what filtering the sorted rows one by one
    and adding their amounts in turn gives; typing on narrows the last search."""
    from crmfiles.folding import fold

    monkeypatch.setattr(selection, "PLAIN", plain_below)
    snap = TuiSnapshot.load(example)
    filters_list: list[dict[str, list[str]]] = [
        {},
        {"status": ["in_progress"]},
        {"status": ["won", "lost"], "tag": ["priority"]},
    ]
    searches = ["", "a", "ac", "acm", "acme", "ac", "e a", "zzz", "é", "pallet"]
    for filters in filters_list:
        for sort in (("name",), ("-amount", "name")):
            for search in searches:
                chosen = snap.select(filters, search, list(sort))
                words = fold(search).split()
                expected = [
                    lr
                    for lr in snap.ordered(sort)
                    if matches(lr.row, filters) and all(w in lr.hay for w in words)
                ]
                assert [lr.id for lr in chosen.rows] == [lr.id for lr in expected]
                assert list(chosen.keys) == [lr.id for lr in expected]
                amount, weighted = plain([lr.row for lr in expected])
                same(chosen.amount, amount)
                same(chosen.weighted, weighted)
