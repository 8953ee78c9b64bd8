"""The rows of ``crm export sqlite``'s record tables (a folder's own, ``lines``,
``competitors``) and of ``stage_history``, made a batch at a time as the records
stream by (:mod:`crmfiles.records.stream`), without holding them: ready for SQLite
(money in cents, lists and mappings as JSON text), with what each table's columns
are (:class:`Shape`); :mod:`crmfiles.export_staging` stages and writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

from crmfiles.export import (
    LINE_MONEY,
    LINE_OWNERS,
    field_types,
    money_fields,
    money_text,
)
from crmfiles.export_sqlite import _PLAIN, _cents, _sql_value
from crmfiles.export_staging import INT64, Part, Staged, staged
from crmfiles.money import amount_of, line_total, weighted
from crmfiles.records import RECORD_FOLDERS, Record

BATCH = 1000  # records a batch: a few MB of rows in flight
DERIVED_MONEY = ("total_amount", "weighted_amount", "amount_base")
HISTORY_COLUMNS = [
    "id", "commit", "merge", "date", "author", "email", "change",
    "from_stage", "to_stage", "from_status", "to_status", "loss_reason",
    "probability", "previous_probability", "amount", "previous_amount",
    "currency", "days_in_previous",
]  # fmt: skip
COMPETITOR_COLUMNS = ["opportunity_id", "position", "partner", "outcome", "comment"]


class Derived(NamedTuple):
    """What an opportunity's derived columns need, taken once before the stream."""

    products: dict[str, Any]
    rates: dict[str, Decimal]
    base: str
    where: dict[str, Any]  # id -> history position
    today: dt.date
    opportunities: bool  # the folder has the derived columns


class Shape:
    """How one table's fields become columns: money fields (``amount`` is stored as
    ``amount_cents``), the declared types; ``columns`` orders the fields seen."""

    def __init__(
        self,
        money: Iterable[str],
        types: dict[str, str],
        columns: Callable[[list[str]], list[str]],
    ) -> None:
        money = list(money)
        self.cents = frozenset(m for m in money if "[]." not in m)
        self.listed = [m for m in money if "[]." in m]
        self.kept = frozenset(m.partition("[].")[0] for m in self.listed)
        self.types = {**types, **{f"{m}_cents": "integer" for m in money}}
        self.columns = columns

    def name(self, key: str) -> str:
        return f"{key}_cents" if key in self.cents else key

    def declared(self, key: str) -> str | None:
        return self.types.get(self.name(key))


def record_columns(keys: list[str]) -> list[str]:
    """:func:`crmfiles.export.columns_of`: ``id`` first, ``path`` last."""
    return ["id", *(k for k in keys if k not in ("id", "path")), "path"]


def line_columns(keys: list[str]) -> list[str]:
    head = ["record_type", "record_id", "position"]
    return head + [k for k in keys if k not in (*head, "id", "path")]


# --- rows ------------------------------------------------------------------------------


def _flat(data: dict[str, Any], keep: frozenset[str], prefix: str = "") -> dict[str, Any]:
    """:func:`crmfiles.export.flatten` with each value as SQLite takes it (lists and
    mappings as JSON text), but for the fields in ``keep`` (lists with money inside,
    written once their money is text)."""
    out: dict[str, Any] = {}
    plain = _PLAIN
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flat(value, keep, name + "."))
        else:
            out[name] = value if type(value) in plain or name in keep else _sql_value(value)
    return out


def _in_sql(row: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """A flattened row's money: plain fields in cents, money in lists as text (and
    those lists as JSON text)."""
    if shape.listed:
        row = money_text(row, shape.listed)
        for key in shape.kept.intersection(row):
            row[key] = _sql_value(row[key])
    for key in shape.cents.intersection(row):
        row[key] = _cents(row[key])
    return row


def _sql_row(row: dict[str, Any]) -> dict[str, Any]:
    plain = _PLAIN
    return {k: v if type(v) in plain else _sql_value(v) for k, v in row.items()}


class _Table:
    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.rows: list[dict[str, Any]] = []

    def part(self) -> Part:
        keys: dict[str, None] = {}
        for row in self.rows:
            keys.update(dict.fromkeys(row))
        order = list(keys)
        tuples = [tuple(map(row.get, order)) for row in self.rows]  # (values made plain)
        kinds: dict[str, tuple[bool, bool] | None] = {}
        for i, key in enumerate(order):
            if self.shape.declared(key) is None:
                values = [t[i] for t in tuples if t[i] is not None]
                # a whole number beyond 64 bits is written as its digits: a column
                # holding one is text, which keeps them (a number column would not)
                fits = all(type(v) is not int or v in INT64 for v in values)
                kinds[key] = (
                    (
                        fits and all(isinstance(v, int) for v in values),
                        fits
                        and all(
                            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
                        ),
                    )
                    if values
                    else None
                )
        self.rows.clear()  # (the batcher appends to this very list)
        return Part(order, tuples, kinds)


def record_batches(
    folder: str, shapes: dict[str, Shape], derived: Derived
) -> Callable[[Iterable[Record]], Iterator[dict[str, Part]]]:
    """The batcher :class:`HalfRun` runs on each half of a folder: per batch of
    records, the rows of the folder's table, of ``lines`` and of ``competitors``."""

    def batches(records: Iterable[Record]) -> Iterator[dict[str, Part]]:
        tables = {name: _Table(shapes[name]) for name in (folder, "lines", "competitors")}
        own, lines, competitors = (tables[n].rows for n in (folder, "lines", "competitors"))
        shape = shapes[folder]
        count = 0
        for record in records:
            data = record.data
            row = {"id": record.id, **_flat(data, shape.kept), "path": record.path}
            if derived.opportunities:
                row.update(_derived(record, derived))
            own.append(_in_sql(row, shape))
            if folder in LINE_OWNERS:
                lines.extend(_lines(record, derived, shapes["lines"]))
            if folder == "opportunities":
                competitors.extend(_competitors(record))
            count += 1
            if count % BATCH == 0:
                yield {name: table.part() for name, table in tables.items()}
        if count % BATCH:
            yield {name: table.part() for name, table in tables.items()}

    return batches


def _derived(record: Record, derived: Derived) -> dict[str, Any]:
    data = record.data
    total = amount_of(data, derived.products)
    currency = str(data.get("currency") or derived.base)
    rate = Decimal(1) if currency == derived.base else derived.rates.get(currency)
    position = derived.where.get(record.id)
    return {
        "total_amount": total,
        "weighted_amount": weighted(total, data.get("probability")),
        "amount_base": total * rate if total is not None and rate is not None else None,
        "days_in_stage": position.days(derived.today)
        if position is not None and position.stage == data.get("stage")
        else None,
    }


def _lines(record: Record, derived: Derived, shape: Shape) -> Iterator[dict[str, Any]]:
    """:func:`crmfiles.export.line_rows` of one record."""
    lines = record.data.get("lines")
    if not isinstance(lines, list):
        return
    products = derived.products
    for position, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            continue
        row = {
            "record_type": RECORD_FOLDERS[record.folder],
            "record_id": record.id,
            "position": position,
            **_flat(line, shape.kept),
            "line_total": line_total(line, products),
        }
        yield _in_sql(row, shape)


def _competitors(record: Record) -> Iterator[dict[str, Any]]:
    competitors = record.data.get("competitors")
    if not isinstance(competitors, list):
        return
    for position, entry in enumerate(competitors, start=1):
        if isinstance(entry, dict):
            row = {"opportunity_id": record.id, "position": position, **entry}
            yield _sql_row({k: row.get(k) for k in COMPETITOR_COLUMNS})


class HalfRun:
    """What :func:`crmfiles.records.stream.folder_halves` runs on each half of a
    folder: its records' rows staged, here in ``db``'s temporary schema, in a forked
    child in a file of its own; the file (None here) and the summary back."""

    def __init__(self, db: Any, folder: str, shapes: dict[str, Shape], derived: Derived) -> None:
        self.db, self.shapes = db, shapes
        self.batches = record_batches(folder, shapes, derived)

    def __call__(
        self, records: Iterable[Record], forked: bool
    ) -> tuple[str | None, dict[str, Staged]]:
        return staged(self.db, self.batches(records), forked)


def event_batches(events: Iterable[Any], shape: Shape) -> Iterator[dict[str, Part]]:
    """The rows of ``stage_history``: one per history event, in batches."""
    table = _Table(shape)
    for event in events:
        shown = event.as_dict()
        table.rows.append(_sql_row(_in_sql({c: shown.get(c) for c in HISTORY_COLUMNS}, shape)))
        if len(table.rows) == BATCH:
            yield {"stage_history": table.part()}
    if table.rows:
        yield {"stage_history": table.part()}


def shapes_of() -> dict[str, Shape]:
    """The shape of each record folder's table, of ``lines`` and of ``competitors``."""
    shapes = {
        folder: Shape(
            {*money_fields(schema), *(DERIVED_MONEY if folder == "opportunities" else ())},
            field_types(schema),
            record_columns,
        )
        for folder, schema in RECORD_FOLDERS.items()
    }
    shapes["lines"] = Shape(
        LINE_MONEY, {"position": "integer", **field_types("line")}, line_columns
    )
    shapes["competitors"] = Shape((), {"position": "integer"}, lambda _: COMPETITOR_COLUMNS)
    shapes["stage_history"] = Shape(
        ("amount", "previous_amount"),
        {"probability": "integer", "previous_probability": "integer",
         "days_in_previous": "integer"},
        lambda _: HISTORY_COLUMNS,
    )  # fmt: skip
    return shapes
