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

import contextlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

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


def record_row(record: Record, money: Iterable[str]) -> dict[str, Any]:
    """The row of one record: ``id``, its fields flattened, ``path``; money as text."""
    return money_text({"id": record.id, **flatten(record.data), "path": record.path}, money)


def line_rows(record: Record, products: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows ``lines.csv`` has of one record's lines."""
    lines = record.data.get("lines")
    if not isinstance(lines, list):
        return
    for position, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            continue
        total = lines_total({"lines": [line]}, products)
        row = {
            "record_type": RECORD_FOLDERS[record.folder],
            "record_id": record.id,
            "position": position,
            **flatten(line),
            "line_total": total,
        }
        yield money_text(row, LINE_MONEY)


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
    would run as formulas are defused unless ``raw`` (csvsafe.py).

    A folder's records are streamed (:func:`~crmfiles.records.stream.folder_halves`:
    the second half in a forked child when it pays), each row spooled to a temporary
    file as it is made: a file's columns are known only once every row is, and
    100,000 records held at once would take a gigabyte."""
    folders = list(types) if types else list(RECORD_FOLDERS)
    products = repo.catalog("products") if not types else {}
    written: list[Path] = []
    line_spools: list[Spooled] = []
    with progress("Exporting CSV", len(folders) + (0 if types else len(CATALOGS) + 1)) as bar:
        for folder in folders:
            with_lines = not types and folder in LINE_OWNERS
            rows, of_lines = folder_spools(repo, folder, products if with_lines else None)
            line_spools += of_lines
            columns = spooled_columns(rows)
            written.append(write_csv(out / f"{folder}.csv", read_spooled(rows), columns, raw=raw))
            bar.advance()
        if types:
            return written
        head = ["record_type", "record_id", "position"]
        keys = spooled_columns(line_spools)
        columns = head + [c for c in keys if c not in (*head, "id", "path")]
        written.append(write_csv(out / "lines.csv", read_spooled(line_spools), columns, raw=raw))
        bar.advance()
        for name in CATALOGS:
            catalog = catalog_rows(repo, name)
            columns = [c for c in columns_of(catalog) if c != "path"]
            written.append(write_csv(out / "catalogs" / f"{name}.csv", catalog, columns, raw=raw))
            bar.advance()
    return written


def folder_spools(
    repo: Repository, folder: str, products: dict[str, Any] | None = None
) -> tuple[list[Spooled], list[Spooled]]:
    """The rows of a folder's records, and (given the products catalog) of their
    lines, spooled (:class:`Spooler`): a spool a half of the folder
    (:func:`~crmfiles.records.stream.folder_halves`), in order."""
    from crmfiles.records.stream import folder_halves

    money = money_fields(RECORD_FOLDERS[folder])

    def run(records: Iterable[Record], forked: bool) -> tuple[Spooled, Spooled | None]:
        rows, lines = Spooler(), Spooler() if products is not None else None
        for record in records:
            rows.add(record_row(record, money))
            if lines is not None:
                lines.extend(line_rows(record, products or {}))
        return rows.done(), lines.done() if lines is not None else None

    halves = list(folder_halves(repo.source, folder, run))
    return [h[0] for h in halves], [h[1] for h in halves if h[1] is not None]


def spooled_columns(spools: Sequence[Spooled]) -> list[str]:
    """:func:`columns_of` the spooled rows."""
    return columns_of([dict.fromkeys(spool.keys) for spool in spools])


class Spooled(NamedTuple):
    """Rows written to a temporary file (pickled one after another), and their keys in
    the order they first came."""

    path: str
    keys: list[str]


class Spooler:
    """Rows to a temporary file as they are made (:class:`Spooled` once done)."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="crm-export-", suffix=".rows")
        self.file = os.fdopen(fd, "wb")
        self.keys: dict[str, None] = {}
        self.pickler = pickle.Pickler(self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def add(self, row: dict[str, Any]) -> None:
        for key in row:
            if key not in self.keys:
                self.keys[key] = None
        self.pickler.dump(row)
        self.pickler.clear_memo()

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def done(self) -> Spooled:
        self.file.close()
        return Spooled(self.path, list(self.keys))


def read_spooled(spools: Sequence[Spooled]) -> Iterator[dict[str, Any]]:
    """The spooled rows, in order, each file removed once read."""
    for spool in spools:
        try:
            with open(spool.path, "rb") as handle:
                unpickler = pickle.Unpickler(handle)
                while True:
                    try:
                        yield unpickler.load()
                    except EOFError:
                        break
        finally:
            with contextlib.suppress(OSError):
                os.unlink(spool.path)


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


def record_csv(repo: Repository, folder: str) -> tuple[Iterator[dict[str, Any]], list[str]]:
    """One folder's rows (streamed from their spools) and columns."""
    rows, _ = folder_spools(repo, folder)
    return read_spooled(rows), spooled_columns(rows)


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
