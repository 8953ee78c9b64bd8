"""``crm export sqlite``'s record tables written as the records stream by
(:mod:`crmfiles.records.stream`), without holding them: each batch of records becomes
rows ready for SQLite (money in cents, lists and mappings as JSON text), inserted
into a staging table of the connection's temporary schema.

A table's columns are only known once every record was seen (the first-seen order of
the fields, ``path`` last; a field the schema does not type takes the type its values
share), so the final table is created at the end and filled from the staging table
in one ``INSERT ... SELECT``: SQLite applies the column's type affinity then exactly
as it would have on a direct insert, and keeps the order of the rows.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from crmfiles.export import (
    LINE_MONEY,
    LINE_OWNERS,
    field_types,
    money_fields,
    money_text,
)
from crmfiles.export_sqlite import _PLAIN, _SQL_TYPES, _cents, _quote, _sql_value
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


class Part(NamedTuple):
    """One table's rows of a batch: the fields in first-seen order, a tuple of values
    per row (None where a row has no such field), and for each field whose type the
    values decide, whether every value was an integer / a number (None: no value)."""

    keys: list[str]
    rows: list[tuple[Any, ...]]
    kinds: dict[str, tuple[bool, bool] | None]


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
                kinds[key] = (
                    (
                        all(isinstance(v, int) for v in values),
                        all(
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
    """The batcher for :func:`crmfiles.records.stream.folder_batches`: per batch of
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


# --- staging ---------------------------------------------------------------------------


class Staged(NamedTuple):
    """One table's rows of a run, in a staging table: its columns ``c0``, ``c1``, ...
    hold the fields ``keys``; ``kinds`` as in :class:`Part`, for the whole run."""

    table: str
    keys: list[str]
    kinds: dict[str, tuple[bool, bool] | None]
    size: int  # rows


class Staging:
    """The batches of a run written to staging tables, one per table, in ``db``'s
    schema ``schema`` (``temp`` here; ``main`` of its own file in a forked child, which
    the summary calls ``label``: the name it is attached as)."""

    def __init__(self, db: Any, schema: str, label: str) -> None:
        self.db, self.schema, self.label = db, schema, label
        self.tables: dict[str, tuple[str, dict[str, int], dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, batch: dict[str, Part]) -> None:
        for name, part in batch.items():
            self._add(name, part)

    def _add(self, name: str, part: Part) -> None:
        if name not in self.tables:
            global _STAGED
            _STAGED += 1
            table = _quote(f"stage_{_STAGED}")
            self.db.execute(f"CREATE TABLE {self.schema}.{table} (_)")
            self.tables[name] = (table, {}, {})
            self.counts[name] = 0
        table, keys, kinds = self.tables[name]
        table = f"{self.schema}.{table}"
        for key in part.keys:
            if key not in keys:
                keys[key] = len(keys)
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN c{keys[key]}")
        _merge(kinds, part.kinds)
        if part.rows:
            names = ", ".join(f"c{keys[k]}" for k in part.keys)
            marks = ", ".join("?" for _ in part.keys)
            self.db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", part.rows)
            self.counts[name] += len(part.rows)

    def summary(self) -> dict[str, Staged]:
        return {
            name: Staged(f"{self.label}.{table}", list(keys), kinds, self.counts[name])
            for name, (table, keys, kinds) in self.tables.items()
        }


_STAGED = 0  # staging tables made by this process (their names)


def _merge(
    kinds: dict[str, tuple[bool, bool] | None], more: dict[str, tuple[bool, bool] | None]
) -> None:
    for key, kind in more.items():
        old = kinds.get(key)
        kinds[key] = (
            kind
            if old is None
            else old
            if kind is None
            else (old[0] and kind[0], old[1] and kind[1])
        )


def finish(db: Any, name: str, shape: Shape, parts: Sequence[Staged]) -> int:
    """The table ``name`` created from its staged parts (in order) and filled."""
    keys: dict[str, None] = {}
    kinds: dict[str, tuple[bool, bool] | None] = {}
    for part in parts:
        keys.update(dict.fromkeys(part.keys))
        _merge(kinds, part.kinds)
    columns = shape.columns(list(keys))
    spec = ", ".join(
        f"{_quote(shape.name(c).replace('.', '_'))} {_type(shape, kinds, c)}" for c in columns
    )
    db.execute(f"CREATE TABLE {_quote(name)} ({spec})")
    for part in parts:
        at = {k: i for i, k in enumerate(part.keys)}
        picked = ", ".join(f"c{at[c]}" if c in at else "NULL" for c in columns)
        db.execute(f"INSERT INTO {_quote(name)} SELECT {picked} FROM {part.table} ORDER BY rowid")
        if part.table.startswith("temp."):
            db.execute(f"DROP TABLE {part.table}")
    return sum(part.size for part in parts)


def _type(shape: Shape, kinds: dict[str, tuple[bool, bool] | None], key: str) -> str:
    declared = shape.declared(key)
    if declared is not None:
        return _SQL_TYPES.get(declared, "TEXT")
    kind = kinds.get(key)
    if kind is None:
        return "TEXT"
    return "INTEGER" if kind[0] else "NUMERIC" if kind[1] else "TEXT"


def kept(db: Any, staged: Staged) -> Staged:
    """A staged part of a forked child's file copied to the temporary schema, to be
    read after the file is detached."""
    if not staged.table.startswith("half."):
        return staged
    global _STAGED
    _STAGED += 1
    table = f"temp.{_quote(f'stage_{_STAGED}')}"
    db.execute(f"CREATE TABLE {table} AS SELECT * FROM {staged.table} ORDER BY rowid")
    return staged._replace(table=table)


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


def staged(
    db: Any, batches: Iterable[dict[str, Part]], forked: bool
) -> tuple[str | None, dict[str, Staged]]:
    """The batches staged: in ``db``'s temporary schema, or, in a forked child, in a
    file of its own (its path back, with the summary)."""
    if not forked:
        staging = Staging(db, "temp", "temp")
        for batch in batches:
            staging.add(batch)
        return None, staging.summary()
    fd, path = tempfile.mkstemp(prefix="crm-export-", suffix=".db")
    os.close(fd)
    try:
        own = sqlite3.connect(path)
        own.execute("PRAGMA journal_mode = OFF")
        own.execute("PRAGMA synchronous = OFF")
        staging = Staging(own, "main", "half")
        for batch in batches:
            staging.add(batch)
        own.commit()
        own.close()
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return path, staging.summary()


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
