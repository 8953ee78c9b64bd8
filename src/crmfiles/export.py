"""``crm export``: the records as CSV files or one SQLite database, for spreadsheets
and BI tools.

CSV: one file per record type (``opportunities.csv``, ...) and per catalog
(``catalogs/stages.csv``, ...), one row per record, a column per field: nested mappings
flattened with dots (``insight.problem``), lists of plain values joined with ``;``,
lists of mappings (``lines``, ``competitors``) as JSON text, and the file's ``path``
last.  Lines also go to ``lines.csv``, one row per line.

SQLite: the same tables with typed columns (the JSON Schemas say which: INTEGER,
NUMERIC, TEXT; booleans 0/1; dots become ``_``; lists as JSON text, which
``json_each`` reads), derived columns on ``opportunities`` (``total_amount``,
``weighted_amount``, ``amount_base`` in the base currency, ``days_in_stage``),
``lines`` and ``competitors`` as child tables, ``stage_history`` (one row per history
event), and ``meta``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles.money import CENT, amount_of, lines_total, rates_from, weighted
from crmfiles.progress import progress
from crmfiles.records import CATALOGS, RECORD_FOLDERS
from crmfiles.records.store import Record, Repository
from crmfiles.schema import all_schemas

LINE_OWNERS = ("opportunities", "quotes", "orders", "invoices")


# --- flattening ------------------------------------------------------------------------


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys; lists stay lists."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ";".join(csv_cell(v) for v in value)
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {"id": None}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    seen.pop("path", None)
    return [*seen, "path"]


def _record_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    return [{"id": r.id, **flatten(r.data), "path": r.path} for r in records]


def _line_rows(repo: Repository) -> list[dict[str, Any]]:
    products = repo.catalog("products")
    rows: list[dict[str, Any]] = []
    for folder in LINE_OWNERS:
        for record in repo.records(folder):
            lines = record.data.get("lines")
            if not isinstance(lines, list):
                continue
            for position, line in enumerate(lines, start=1):
                if not isinstance(line, dict):
                    continue
                total = lines_total({"lines": [line]}, products)
                rows.append(
                    {
                        "record_type": RECORD_FOLDERS[folder],
                        "record_id": record.id,
                        "position": position,
                        **flatten(line),
                        "line_total": str(total) if total is not None else None,
                    }
                )
    return rows


def _catalog_rows(repo: Repository, name: str) -> list[dict[str, Any]]:
    return [flatten(entry) for entry in repo.catalog(name).values()]


# --- CSV -------------------------------------------------------------------------------


def export_csv(repo: Repository, out: Path, types: Sequence[str] | None = None) -> list[Path]:
    """Write the CSV files into ``out``; returns what was written."""
    folders = list(types) if types else list(RECORD_FOLDERS)
    written: list[Path] = []
    with progress("Exporting CSV", len(folders) + (0 if types else len(CATALOGS) + 1)) as bar:
        for folder in folders:
            rows = _record_rows(repo.records(folder))
            written.append(write_csv(out / f"{folder}.csv", rows, _columns(rows)))
            bar.advance()
        if types:
            return written
        lines = _line_rows(repo)
        head = ["record_type", "record_id", "position"]
        columns = head + [c for c in _columns(lines) if c not in (*head, "id", "path")]
        written.append(write_csv(out / "lines.csv", lines, columns))
        bar.advance()
        for name in CATALOGS:
            rows = _catalog_rows(repo, name)
            columns = [c for c in _columns(rows) if c != "path"]
            written.append(write_csv(out / "catalogs" / f"{name}.csv", rows, columns))
            bar.advance()
    return written


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        write_csv_stream(handle, rows, columns)
    return path


def write_csv_stream(handle: Any, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])


def record_csv(repo: Repository, folder: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows = _record_rows(repo.records(folder))
    return rows, _columns(rows)


# --- SQLite ----------------------------------------------------------------------------


@cache
def _resolve(node_json: str) -> dict[str, Any]:
    node = json.loads(node_json)
    ref = node.get("$ref")
    if not ref:
        return dict(node)
    doc, _, fragment = ref.partition("#")
    target: Any = all_schemas()[doc.removesuffix(".schema.json")]
    for part in filter(None, fragment.split("/")):
        target = target[part]
    merged = {k: v for k, v in node.items() if k != "$ref"}
    return {**_resolve(json.dumps(target, sort_keys=True)), **merged}


@cache
def field_types(schema: str) -> dict[str, str]:
    """Dotted field -> JSON type of a record (or catalog entry) schema; ``line`` gives
    the fields of one line."""
    if schema == "line":
        root = _resolve(json.dumps({"$ref": "common.schema.json#/$defs/line"}))
    else:
        root = all_schemas()[schema]
        if root.get("type") == "array":
            root = _resolve(json.dumps(root.get("items", {}), sort_keys=True))
    out: dict[str, str] = {}

    def walk(node: dict[str, Any], prefix: str, depth: int) -> None:
        for key, sub in (node.get("properties") or {}).items():
            resolved = _resolve(json.dumps(sub, sort_keys=True))
            kind = resolved.get("type")
            if kind == "object" and resolved.get("properties") and depth < 4:
                walk(resolved, f"{prefix}{key}.", depth + 1)
            elif isinstance(kind, str):
                out[f"{prefix}{key}"] = kind

    walk(root, "", 0)
    return out


_SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}


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
    db.executemany(
        f"INSERT INTO {_quote(name)} VALUES ({marks})",
        ([_sql_value(row.get(c)) for c in columns] for row in rows),
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


def export_sqlite(repo: Repository, target: Path, *, history: Any = None) -> dict[str, int]:
    """Write the database to ``target`` (replacing it atomically); rows per table."""
    from crmfiles.history import all_events, positions

    counts: dict[str, int] = {}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            steps = len(RECORD_FOLDERS) + len(CATALOGS) + 4
            with progress("Exporting SQLite", steps) as bar:
                for folder, schema in RECORD_FOLDERS.items():
                    rows = _record_rows(repo.records(folder))
                    if folder == "opportunities":
                        rows = list(_with_derived(repo, rows, history, positions))
                    counts[folder] = _table(db, folder, rows, _columns(rows), field_types(schema))
                    bar.advance()
                lines = _line_rows(repo)
                head = ["record_type", "record_id", "position"]
                columns = head + [c for c in _columns(lines) if c not in (*head, "id", "path")]
                types = {"position": "integer", "line_total": "number", **field_types("line")}
                counts["lines"] = _table(db, "lines", lines, columns, types)
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
                columns = [
                    "id", "commit", "merge", "date", "author", "email", "change",
                    "from_stage", "to_stage", "from_status", "to_status", "loss_reason",
                    "probability", "previous_probability", "amount", "previous_amount",
                    "currency", "days_in_previous",
                ]  # fmt: skip
                for event in events:
                    for key in ("amount", "previous_amount"):
                        if event[key] is not None:
                            event[key] = float(event[key])
                counts["stage_history"] = _table(
                    db,
                    "stage_history",
                    events,
                    columns,
                    {"probability": "integer", "previous_probability": "integer",
                     "amount": "number", "previous_amount": "number",
                     "days_in_previous": "integer"},
                )  # fmt: skip
                bar.advance()
                for name in CATALOGS:
                    rows = _catalog_rows(repo, name)
                    columns = [c for c in _columns(rows) if c != "path"]
                    counts[f"catalog_{name.replace('-', '_')}"] = _table(
                        db, f"catalog_{name.replace('-', '_')}", rows, columns, field_types(name)
                    )
                    bar.advance()
                meta = {
                    "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "currency": repo.config.currency,
                    "revision": getattr(repo.source, "commit", None) or "work tree",
                    "history_head": getattr(history, "head", None),
                }
                _table(db, "meta", [{"key": k, "value": v} for k, v in meta.items()],
                       ["key", "value"], {})  # fmt: skip
                bar.advance()
            db.commit()
        finally:
            db.close()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
        rate = 1 if currency == base else rates.get(currency)
        position = where.get(row["id"])
        yield {
            **row,
            "total_amount": float(total) if total is not None else None,
            "weighted_amount": _float(weighted(total, data.get("probability"))),
            "amount_base": float((total * rate).quantize(CENT))
            if total is not None and rate is not None
            else None,
            "days_in_stage": position.days(today)
            if position is not None and position.stage == data.get("stage")
            else None,
        }


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _competitor_rows(repo: Repository) -> Iterator[dict[str, Any]]:
    for record in repo.records("opportunities"):
        competitors = record.data.get("competitors")
        if not isinstance(competitors, list):
            continue
        for position, entry in enumerate(competitors, start=1):
            if isinstance(entry, dict):
                yield {"opportunity_id": record.id, "position": position, **entry}
