"""``crm export sqlite``: the records as one SQLite database, for BI tools.

The tables of ``crm export csv`` with typed columns (the JSON Schemas say which:
INTEGER, NUMERIC, TEXT; booleans 0/1; dots become ``_``; lists as JSON text, which
``json_each`` reads), derived columns on ``opportunities``, ``lines`` and
``competitors`` as child tables, ``stage_history`` (one row per history event), and
``meta``.

Money is whole cents in INTEGER columns named for it (``amount_cents``,
``total_amount_cents``, ``price_cents``, ...): SQL ``sum()`` adds integers exactly,
where it would add REAL (or TEXT, which it reads as REAL) with binary rounding.  Inside
JSON text money is a decimal string with two places, as in CSV.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmfiles.export import (
    LINE_MONEY,
    catalog_rows,
    columns_of,
    field_types,
    line_rows,
    money_fields,
    record_rows,
)
from crmfiles.money import amount_of, cents, decimal, rates_from, weighted
from crmfiles.progress import progress
from crmfiles.records import CATALOGS, RECORD_FOLDERS
from crmfiles.records.store import Repository

_SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}
_INT64 = 2**63
HISTORY_COLUMNS = [
    "id", "commit", "merge", "date", "author", "email", "change",
    "from_stage", "to_stage", "from_status", "to_status", "loss_reason",
    "probability", "previous_probability", "amount", "previous_amount",
    "currency", "days_in_previous",
]  # fmt: skip


# --- money as cents --------------------------------------------------------------------


def _cents(value: Any) -> int | str | None:
    """A money value as whole cents; None when it is no number (an invalid record);
    beyond SQLite's 64-bit integers, the cents as text (still exact, but not summable)."""
    amount = value if isinstance(value, Decimal) else decimal(value)
    if amount is None:
        return None
    whole = cents(amount)
    return whole if -_INT64 <= whole < _INT64 else str(whole)


def _in_cents(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], money: Iterable[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each plain money column ``m`` becomes ``m_cents`` (in place, same position);
    money inside lists of mappings stays decimal text."""
    renamed = {m: f"{m}_cents" for m in money if "[]." not in m}
    out = list(rows)
    if renamed:
        pairs = list(renamed.items())
        for row in out:  # (rows are the export's own: changed in place, not copied)
            for old, new in pairs:
                if old in row:
                    row[new] = _cents(row.pop(old))
    return out, [renamed.get(c, c) for c in columns]


def _cents_types(types: dict[str, str], money: Iterable[str]) -> dict[str, str]:
    return {**types, **{f"{m}_cents": "integer" for m in money}}


# --- tables ----------------------------------------------------------------------------


_PLAIN = frozenset({type(None), int, float, str, bool})  # what SQLite takes as it is


def _sql_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)):
        return value  # bool is an int: 0 / 1
    return json.dumps(value, ensure_ascii=False, default=str)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(
    db: sqlite3.Connection,
    name: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    types: dict[str, str],
) -> int:
    spec = ", ".join(
        f"{_quote(c.replace('.', '_'))} {_sql_type(types.get(c), c, rows)}" for c in columns
    )
    db.execute(f"CREATE TABLE {_quote(name)} ({spec})")
    marks = ", ".join("?" for _ in columns)
    plain = _PLAIN
    db.executemany(
        f"INSERT INTO {_quote(name)} VALUES ({marks})",
        ([v if type(v) in plain else _sql_value(v) for v in map(row.get, columns)] for row in rows),
    )
    return len(rows)


def _sql_type(declared: str | None, column: str, rows: Sequence[dict[str, Any]]) -> str:
    """The schema's type where it has one; else what the values are."""
    if declared is not None:
        return _SQL_TYPES.get(declared, "TEXT")
    values = [r.get(column) for r in rows if r.get(column) is not None]
    if values and all(isinstance(v, int) for v in values):
        return "INTEGER"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "NUMERIC"
    return "TEXT"


def _money_table(
    db: sqlite3.Connection,
    name: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    types: dict[str, str],
    money: Iterable[str],
) -> int:
    money = list(money)
    cent_rows, cent_columns = _in_cents(rows, columns, money)
    return _table(db, name, cent_rows, cent_columns, _cents_types(types, money))


# --- the database ----------------------------------------------------------------------


def export_sqlite(repo: Repository, target: Path, *, history: Any = None) -> dict[str, int]:
    """Write the database to ``target`` (replacing it atomically); rows per table."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            counts = _write(db, repo, history)
            db.commit()
        finally:
            db.close()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def _write(db: sqlite3.Connection, repo: Repository, history: Any) -> dict[str, int]:
    from crmfiles.history import all_events, positions

    counts: dict[str, int] = {}
    steps = len(RECORD_FOLDERS) + len(CATALOGS) + 4
    with progress("Exporting SQLite", steps) as bar:
        for folder, schema in RECORD_FOLDERS.items():
            rows = record_rows(repo.records(folder), schema)
            money = set(money_fields(schema))
            if folder == "opportunities":
                rows = list(_with_derived(repo, rows, history, positions))
                money |= {"total_amount", "weighted_amount", "amount_base"}
            counts[folder] = _money_table(
                db, folder, rows, columns_of(rows), field_types(schema), money
            )
            bar.advance()
        lines = line_rows(repo)
        head = ["record_type", "record_id", "position"]
        columns = head + [c for c in columns_of(lines) if c not in (*head, "id", "path")]
        types = {"position": "integer", **field_types("line")}
        counts["lines"] = _money_table(db, "lines", lines, columns, types, LINE_MONEY)
        competitors = list(_competitor_rows(repo))
        counts["competitors"] = _table(
            db,
            "competitors",
            competitors,
            ["opportunity_id", "position", "partner", "outcome", "comment"],
            {"position": "integer"},
        )
        bar.advance(2)
        events = [e.as_dict() for e in all_events(history)] if history else []
        counts["stage_history"] = _money_table(
            db,
            "stage_history",
            events,
            HISTORY_COLUMNS,
            {"probability": "integer", "previous_probability": "integer",
             "days_in_previous": "integer"},
            ("amount", "previous_amount"),
        )  # fmt: skip
        bar.advance()
        for name in CATALOGS:
            rows = catalog_rows(repo, name)
            columns = [c for c in columns_of(rows) if c != "path"]
            table = f"catalog_{name.replace('-', '_')}"
            counts[table] = _money_table(
                db, table, rows, columns, field_types(name), money_fields(name)
            )
            bar.advance()
        meta = {
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "currency": repo.config.currency,
            "revision": getattr(repo.source, "commit", None) or "work tree",
            "history_head": getattr(history, "head", None),
            "money": "whole cents in INTEGER columns named *_cents",
        }
        _table(db, "meta", [{"key": k, "value": v} for k, v in meta.items()],
               ["key", "value"], {})  # fmt: skip
        bar.advance()
    return counts


def _with_derived(
    repo: Repository, rows: list[dict[str, Any]], history: Any, positions: Any
) -> Iterator[dict[str, Any]]:
    products = repo.catalog("products")
    rates = rates_from(repo.catalog("currencies").values())
    base = repo.config.currency
    where = positions(history) if history is not None else {}
    today = dt.date.today()
    by_id = {r.id: r for r in repo.records("opportunities")}
    for row in rows:
        data = by_id[row["id"]].data
        total = amount_of(data, products)
        currency = str(data.get("currency") or base)
        rate = Decimal(1) if currency == base else rates.get(currency)
        position = where.get(row["id"])
        row.update(  # (the export's own row: extended in place, not copied)
            total_amount=total,
            weighted_amount=weighted(total, data.get("probability")),
            amount_base=total * rate if total is not None and rate is not None else None,
            days_in_stage=position.days(today)
            if position is not None and position.stage == data.get("stage")
            else None,
        )
        yield row


def _competitor_rows(repo: Repository) -> Iterator[dict[str, Any]]:
    for record in repo.records("opportunities"):
        competitors = record.data.get("competitors")
        if not isinstance(competitors, list):
            continue
        for position, entry in enumerate(competitors, start=1):
            if isinstance(entry, dict):
                yield {"opportunity_id": record.id, "position": position, **entry}
