"""The list rows a :class:`~crmfiles.tui.data.TuiSnapshot` holds, built off the UI
thread: from the opportunities' facts column by column (a load), from one record, and
again for the files an operation changed (:func:`patched`, a new snapshot)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from crmfiles.money import Total
from crmfiles.records import CATALOG_DIR, classify, facts
from crmfiles.records.store import Record, Repository
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.reports.pipeline import Row
from crmfiles.tui.columns import listed_fields, shows_margin
from crmfiles.tui.rows import ListRow

if TYPE_CHECKING:
    from crmfiles.tui.data import TuiSnapshot


def rows_of_facts(snap: TuiSnapshot) -> dict[str, ListRow]:
    """The list's rows of the opportunities' facts, worked out column by column
    (as :func:`row_of` works out one)."""
    from crmfiles.reports.deals import Deals, add_amounts

    deals = Deals(snap.repo)
    table = deals.table
    names = [
        {"partner_name": p, "stage_name": s, "responsible_name": r}
        for p, s, r in zip(
            _named_column(snap, "partners", table.column("partner")),
            _named_column(snap, "stages", table.column("stage")),
            _named_column(snap, "people", table.column("responsible")),
            strict=True,
        )
    ]
    views = snap.records["views"].values()
    records = table.records_with(listed_fields(views))
    rows: Iterable[Row] = map(Row, records, deals.amount, deals.weighted, deals.currency, names)
    if shows_margin(views):  # (worked out from the lines only when a view shows one)
        rows = map(_with_margin, rows, deals.margin, deals.weighted_margin)
    root = snap.root
    made = {r.id: ListRow(r.id, row, root, table) for r, row in zip(records, rows, strict=True)}
    # every row's totals, from the columns (the list's first screen shows them)
    amount, weighted = Total(snap.currency, {}), Total(snap.currency, {})
    everyone = range(len(records))
    add_amounts(amount, deals.amount, deals.currency, everyone)
    add_amounts(weighted, deals.weighted, deals.currency, everyone)
    snap._all_totals = amount.by_currency, weighted.by_currency
    snap.facts_table = table
    return made


def _with_margin(row: Row, margin: Any, weighted_margin: Any) -> Row:
    row.margin, row.weighted_margin = margin, weighted_margin
    return row


def _named_column(snap: TuiSnapshot, folder: str, refs: list[Any]) -> list[str]:
    """:meth:`~TuiSnapshot.row_name` of each reference, worked out once per distinct
    reference (100,000 deals name a few thousand partners)."""
    try:
        distinct = set(refs)
    except TypeError:  # a reference that is a list or a mapping
        return [snap.row_name(folder, ref) for ref in refs]
    named = {ref: snap.row_name(folder, ref) for ref in distinct}
    return list(map(named.__getitem__, refs))


def row_of(snap: TuiSnapshot, record: Record) -> ListRow:
    data = record.data
    products = snap.catalogs["products"]
    amount = facts.amount(data, products)
    names = {
        "partner_name": snap.row_name("partners", data.get("partner")),
        "stage_name": snap.row_name("stages", data.get("stage")),
        "responsible_name": snap.row_name("people", data.get("responsible")),
    }
    margin = facts.margin(data, products)
    row = Row(
        record,
        amount,
        facts.weighted_of(data, amount),
        str(data.get("currency") or snap.currency),
        names,
        margin=margin,
        weighted_margin=facts.weighted_of(data, margin, of_margin=True),
    )
    return ListRow(record.id, row, None if record.whole else snap.root)


def patched(snap: TuiSnapshot, paths: Iterable[str]) -> TuiSnapshot:
    """A new snapshot with these files re-read from the work tree; a changed
    catalog or crm.yaml changes everything derived from it, so reload then."""
    records = {folder: dict(by_id) for folder, by_id in snap.records.items()}
    changed_opportunities: set[str] = set()
    for path in paths:
        place = classify(path)
        if place is None or place.kind != "record" or path.startswith(CATALOG_DIR + "/"):
            return type(snap).load(snap.root)
        folder = records[place.name]
        old = folder.get(place.id)
        full = snap.root / path
        if not full.is_file():
            if old is not None and old.path == path:
                del folder[place.id]
                changed_opportunities.add(place.id)
            continue
        try:
            text = full.read_text("utf-8").removeprefix("\ufeff")
            data = parse(text)
        except (OSError, UnicodeDecodeError, ParseError):
            continue
        if isinstance(data, dict):
            folder[place.id] = Record(place.name, place.id, path, data, text)
            if place.name == "opportunities":
                changed_opportunities.add(place.id)
        if place.name == "partners":
            return type(snap).load(snap.root)  # a partner's name shows on many rows
    # the reports read a Repository: a fresh one, loaded when a report asks
    new = replace(
        snap,
        repo=Repository(snap.root),
        records=records,
        rows=dict(snap.rows),
        _orders={},
        _named={},
        _all_totals=None,
    )
    for rid in changed_opportunities:
        record = records["opportunities"].get(rid)
        if record is None:
            new.rows.pop(rid, None)
        else:
            new.rows[rid] = row_of(new, record)
    return new
