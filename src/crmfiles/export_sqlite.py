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
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmfiles.export import (
    catalog_rows,
    columns_of,
    field_types,
    money_fields,
)
from crmfiles.money import cents, decimal, rates_from
from crmfiles.progress import progress
from crmfiles.records import CATALOGS, RECORD_FOLDERS
from crmfiles.records.store import Repository

_SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}
_INT64 = 2**63


# --- money as cents --------------------------------------------------------------------


def _cents(value: Any) -> int | str | None:
    """A money value as whole cents; None when it is no number (an invalid record);
    beyond SQLite's 64-bit integers, the cents as text (still exact, but not summable)."""
    if type(value) is int:  # (most amounts: exact, and no Decimal needed)
        whole = value * 100
    else:
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
    return _json(value)


_json = json.JSONEncoder(ensure_ascii=False, default=str).encode  # (json.dumps, made once)


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
        # no sync at each of the commits the staging needs (the file is a temporary
        # one until it is complete): one fsync of the whole file before it is put in place
        db.execute("PRAGMA synchronous = OFF")
        try:
            counts = _write(db, repo, history)
            db.commit()
        finally:
            db.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def _write(db: sqlite3.Connection, repo: Repository, history: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    steps = len(RECORD_FOLDERS) + len(CATALOGS) + 4
    with progress("Exporting SQLite", steps, threadless=True) as bar:
        _records(db, repo, history, counts, bar.advance)
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


def _records(
    db: sqlite3.Connection,
    repo: Repository,
    history: Any,
    counts: dict[str, int],
    advance: Callable[..., object],
) -> None:
    """The tables of the record folders, ``lines`` and ``competitors``: the records
    streamed a folder at a time into staging tables (:mod:`crmfiles.export_stream`),
    never all held; half of a large folder in a forked child, which stages its rows in
    a file of its own, attached here to be copied from."""
    from crmfiles.export_staging import finish, staged
    from crmfiles.export_stream import Derived, event_batches, shapes_of
    from crmfiles.history import all_events, positions
    from crmfiles.records.stream import Forked

    shapes = shapes_of()
    derived = Derived(
        repo.catalog("products"),
        rates_from(repo.catalog("currencies").values()),
        repo.config.currency,
        positions(history) if history is not None else {},
        dt.date.today(),
        False,
    )
    later: dict[str, list[Any]] = {"lines": [], "competitors": []}

    def history_rows(forked: bool) -> tuple[str | None, dict[str, Any]]:
        events = all_events(history) if history else []
        return staged(db, event_batches(events, shapes["stage_history"]), forked)

    history_child = Forked(lambda: history_rows(True))  # (while the folders are read)
    try:
        _folders(db, repo, shapes, derived, later, counts, advance)
    except BaseException:
        answer = history_child.answer()
        if answer:
            Path(answer[0][0]).unlink(missing_ok=True)
        raise
    counts["lines"] = finish(db, "lines", shapes["lines"], later["lines"])
    counts["competitors"] = finish(db, "competitors", shapes["competitors"], later["competitors"])
    advance(2)
    answer = history_child.answer()
    path, summary = answer[0] if answer else history_rows(False)
    _attached(db, path, lambda: counts.update(stage_history=finish(
        db, "stage_history", shapes["stage_history"], list(summary.values()))))  # fmt: skip
    advance()


def _folders(
    db: sqlite3.Connection,
    repo: Repository,
    shapes: dict[str, Any],
    derived: Any,
    later: dict[str, list[Any]],
    counts: dict[str, int],
    advance: Callable[..., object],
) -> None:
    from crmfiles.export_staging import finish, kept
    from crmfiles.export_stream import HalfRun
    from crmfiles.records.stream import folder_halves

    for folder in RECORD_FOLDERS:
        run = HalfRun(db, folder, shapes, derived._replace(opportunities=folder == "opportunities"))
        halves = list(folder_halves(repo.source, folder, run))
        summaries = [summary for _, summary in halves]

        def copy(folder: str = folder, summaries: list[Any] = summaries) -> None:
            parts = [s[folder] for s in summaries if folder in s]
            counts[folder] = finish(db, folder, shapes[folder], parts)
            for table, kept_parts in later.items():
                kept_parts.extend(kept(db, s[table]) for s in summaries if table in s)

        _attached(db, next((p for p, _ in halves if p is not None), None), copy)
        advance()


def _attached(db: sqlite3.Connection, path: str | None, work: Callable[[], object]) -> None:
    """``work`` with a forked child's staging file (if any) attached as ``half``; the
    file removed after."""
    if path is None:
        work()
        return
    try:
        db.commit()  # (no ATTACH inside a transaction)
        db.execute("ATTACH DATABASE ? AS half", (path,))
        try:
            work()
        finally:
            db.commit()
            db.execute("DETACH DATABASE half")
    finally:
        Path(path).unlink(missing_ok=True)
