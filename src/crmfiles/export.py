"""``crm export csv``: the records as CSV files, for spreadsheets and BI tools; the
flattening and the schema facts (types, money fields) that ``crm export sqlite``
(:mod:`crmfiles.export_sqlite`) shares.

One file per record type (``opportunities.csv``, ...) and per catalog
(``catalogs/stages.csv``, ...), one row per record, a column per field: nested mappings
flattened with dots (``insight.problem``), lists of plain values joined with ``;``,
lists of mappings (``lines``, ``competitors``) as JSON text, and the file's ``path``
last.  Lines also go to ``lines.csv``, one row per line.  Money (every field the
schemas declare as money, and ``line_total``) is a decimal with exactly two places
(``109155.00``), in the columns and inside the JSON text alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles import csvsafe
from crmfiles.money import decimal, lines_total, plain
from crmfiles.progress import progress
from crmfiles.records import CATALOGS, RECORD_FOLDERS
from crmfiles.records.store import Record, Repository
from crmfiles.schema import all_schemas

LINE_OWNERS = ("opportunities", "quotes", "orders", "invoices")
LINE_MONEY = ("unit_price", "line_total")


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


def columns_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {"id": None}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    seen.pop("path", None)
    return [*seen, "path"]


def record_rows(records: Sequence[Record], schema: str) -> list[dict[str, Any]]:
    money = money_fields(schema)
    return [money_text({"id": r.id, **flatten(r.data), "path": r.path}, money) for r in records]


def line_rows(repo: Repository) -> list[dict[str, Any]]:
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
                row = {
                    "record_type": RECORD_FOLDERS[folder],
                    "record_id": record.id,
                    "position": position,
                    **flatten(line),
                    "line_total": total,
                }
                rows.append(money_text(row, LINE_MONEY))
    return rows


def catalog_rows(repo: Repository, name: str) -> list[dict[str, Any]]:
    money = money_fields(name)
    return [money_text(flatten(entry), money) for entry in repo.catalog(name).values()]


# --- money -----------------------------------------------------------------------------


def _text(value: Any) -> Any:
    amount = decimal(value)
    return value if amount is None else plain(amount)


def money_text(row: dict[str, Any], money: Iterable[str]) -> dict[str, Any]:
    """The row with its money as exact decimal text, two places (``"109155.00"``), also
    inside lists of mappings (``lines[].unit_price``); a value that is no number (an
    invalid record) stays as it is."""
    out = dict(row)
    for name in money:
        field, listed, inner = name.partition("[].")
        value = out.get(field)
        if not listed:
            if value is not None:
                out[field] = _text(value)
        elif isinstance(value, list):
            out[field] = [
                {**e, inner: _text(e[inner])} if isinstance(e, dict) and inner in e else e
                for e in value
            ]
    return out


# --- CSV -------------------------------------------------------------------------------


def export_csv(
    repo: Repository, out: Path, types: Sequence[str] | None = None, *, raw: bool = False
) -> list[Path]:
    """Write the CSV files into ``out``; returns what was written. Cells a spreadsheet
    would run as formulas are defused unless ``raw`` (csvsafe.py)."""
    folders = list(types) if types else list(RECORD_FOLDERS)
    written: list[Path] = []
    with progress("Exporting CSV", len(folders) + (0 if types else len(CATALOGS) + 1)) as bar:
        for folder in folders:
            rows = record_rows(repo.records(folder), RECORD_FOLDERS[folder])
            written.append(write_csv(out / f"{folder}.csv", rows, columns_of(rows), raw=raw))
            bar.advance()
        if types:
            return written
        lines = line_rows(repo)
        head = ["record_type", "record_id", "position"]
        columns = head + [c for c in columns_of(lines) if c not in (*head, "id", "path")]
        written.append(write_csv(out / "lines.csv", lines, columns, raw=raw))
        bar.advance()
        for name in CATALOGS:
            rows = catalog_rows(repo, name)
            columns = [c for c in columns_of(rows) if c != "path"]
            written.append(write_csv(out / "catalogs" / f"{name}.csv", rows, columns, raw=raw))
            bar.advance()
    return written


def write_csv(
    path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str], *, raw: bool = False
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        write_csv_stream(handle, rows, columns, raw=raw)
    return path


def write_csv_stream(
    handle: Any, rows: Iterable[dict[str, Any]], columns: Sequence[str], *, raw: bool = False
) -> None:
    """Rows as CSV; cells a spreadsheet would run as formulas are defused unless
    ``raw`` (csvsafe.py)."""
    writer = csvsafe.Writer(handle, raw=raw)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])


def record_csv(repo: Repository, folder: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows = record_rows(repo.records(folder), RECORD_FOLDERS[folder])
    return rows, columns_of(rows)


# --- what the schemas say about fields ------------------------------------------------


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


MONEY_REF = "common.schema.json#/$defs/money"


@cache
def _fields(schema: str) -> tuple[dict[str, str], frozenset[str]]:
    """Dotted field -> JSON type, and the money fields (``lines[].unit_price`` for money
    inside a list of mappings)."""
    if schema == "line":
        root = _resolve(json.dumps({"$ref": "common.schema.json#/$defs/line"}))
    else:
        root = all_schemas()[schema]
        if root.get("type") == "array":
            root = _resolve(json.dumps(root.get("items", {}), sort_keys=True))
    types: dict[str, str] = {}
    money: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, depth: int, listed: bool) -> None:
        for key, sub in (node.get("properties") or {}).items():
            resolved = _resolve(json.dumps(sub, sort_keys=True))
            kind = resolved.get("type")
            if sub.get("$ref") == MONEY_REF:
                money.add(f"{prefix}{key}")
            if kind == "object" and resolved.get("properties") and depth < 4:
                walk(resolved, f"{prefix}{key}.", depth + 1, listed)
                continue
            if kind == "array" and isinstance(resolved.get("items"), dict) and depth < 4:
                items = _resolve(json.dumps(resolved["items"], sort_keys=True))
                walk(items, f"{prefix}{key}[].", depth + 1, True)
            if isinstance(kind, str) and not listed:
                types[f"{prefix}{key}"] = kind

    walk(root, "", 0, False)
    return types, frozenset(money)


def field_types(schema: str) -> dict[str, str]:
    """Dotted field -> JSON type of a record (or catalog entry) schema; ``line`` gives
    the fields of one line."""
    return _fields(schema)[0]


def money_fields(schema: str) -> frozenset[str]:
    """The fields of a schema that hold money (``amount``, ``price``, ...)."""
    return _fields(schema)[1]
