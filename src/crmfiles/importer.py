"""``crm import csv``: records from a CSV file, through a column mapping, checked by the
same engine as ``crm validate`` before anything is written.

The mapping file (YAML)::

    columns:                  # CSV column -> field (dotted for nested: insight.pain)
      Deal: name
      Stage: stage
      Value: amount
      Owner: responsible
      Tags: tags              # a list field: the cell is split on `separator`
      Notes: null             # read, and ignored on purpose
    values:                   # per field: CSV value -> record value
      stage: {Prospecting: qualify, Proposal sent: proposal}
      responsible: {Anna B.: anna.becker}
    defaults:                 # fields a row leaves empty
      kind: standard-sale
      status: in_progress
    separator: ";"            # between list items in a cell (default ;)
    delimiter: ","            # between cells (default ,)
    encoding: utf-8-sig       # of the CSV file (default: UTF-8, with or without BOM)
    key: Deal ID              # a column naming each row in the system it came from

With a ``key`` column, its cell is kept in the record as ``external_id``: a row whose
key a record of the folder has already is "already imported" and skipped, so running
the same file again adds only its new rows (and commits nothing when there are none).

Every row becomes one record: cells are converted to the field's type (the JSON
Schema says which), an ``id`` comes from an ``id`` column or from the name (made
unique), the file goes where crm.yaml's layout puts it, and every new file is checked
together with the repository.  A row that fails is refused with its row number and
every reason; unless ``partial``, one refused row means nothing is written.  The
files are written and committed all or nothing (``crmfiles.import_write``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.import_mapping import Mapping, load_mapping
from crmfiles.progress import progress
from crmfiles.records import RECORD_FOLDERS, is_valid_id
from crmfiles.records.store import Repository
from crmfiles.records.yamlio import ParseError, parse

__all__ = ["IMPORTABLE", "ImportResult", "Mapping", "import_csv", "load_mapping"]

IMPORTABLE = ("opportunities", "partners", "contacts", "leads")
TRUE = ("true", "yes", "y", "1", "x", "on")
FALSE = ("false", "no", "n", "0", "", "off")


KEY_FIELD = "external_id"


@dataclass
class Refusal:
    row: int  # data row, 1-based (the header is not a row)
    line: int  # line of the CSV file where the row starts
    id: str | None
    reasons: list[str]


@dataclass
class ImportResult:
    rows: int
    written: list[str]  # repository paths
    refused: list[Refusal]
    commit: str | None = None
    warnings: list[str] = field(default_factory=list)
    already: int = 0  # rows whose key a record has already (skipped)


@dataclass
class _Row:
    number: int
    line: int
    data: dict[str, Any]
    reasons: list[str]
    id: str | None = None
    path: str | None = None
    text: str | None = None
    key: str | None = None


def import_csv(
    root: Path,
    source: Path,
    folder: str,
    mapping: Mapping,
    *,
    partial: bool = False,
    commit: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    if folder not in IMPORTABLE:
        raise CrmError(f"cannot import {folder}", hint=f"one of: {', '.join(IMPORTABLE)}")
    repo = Repository(root)
    rows, warnings = _read(source, folder, mapping)
    done = _imported_keys(root, folder) if mapping.key else {}
    already = [r for r in rows if r.key is not None and r.key in done and not r.reasons]
    rows = [r for r in rows if r not in already]
    with progress(f"Importing {folder}", len(rows)) as bar:
        # every file's name counts, read or not: an import never takes a broken file's id
        taken = {p.stem for p in (root / folder).rglob("*") if p.suffix in (".yaml", ".yml")}
        for row in rows:
            _place(repo, folder, row, taken)
            bar.advance()
        checkable = [r for r in rows if not r.reasons]
        warnings += _check(root, checkable, again=partial)
    refused = [Refusal(r.number, r.line, r.id, r.reasons) for r in rows if r.reasons]
    result = ImportResult(len(rows) + len(already), [], refused, warnings=warnings)
    result.already = len(already)
    good = [r for r in rows if not r.reasons]
    if (refused and not partial) or dry_run or not good:
        return result
    from crmfiles.import_write import write_all

    texts = {row.path: row.text for row in good if row.path is not None and row.text is not None}
    plural = folder if len(texts) != 1 else RECORD_FOLDERS[folder]
    message = f"crm: import {len(texts)} {plural} from {source.name}\n\nCrm-Import: {source.name}"
    result.commit = write_all(root, texts, message if commit else None)
    result.written = list(texts)
    return result


def _imported_keys(root: Path, folder: str) -> dict[str, str]:
    """key -> path of every record of ``folder`` (committed or not) that has one."""
    found: dict[str, str] = {}
    for path in sorted((root / folder).rglob("*.yaml")):
        try:
            content = path.read_bytes()
        except OSError:
            continue
        if KEY_FIELD.encode() not in content:
            continue  # (most records: not parsed)
        try:
            data = parse(content.decode("utf-8"))
        except (UnicodeDecodeError, ParseError):
            continue
        if isinstance(data, dict) and isinstance(data.get(KEY_FIELD), str):
            found.setdefault(data[KEY_FIELD], path.relative_to(root).as_posix())
    return found


def _read(source: Path, folder: str, mapping: Mapping) -> tuple[list[_Row], list[str]]:
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CrmError(f"{source}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise CrmError(f"{source}: not readable as {mapping.encoding}: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CrmError(f"{source}: empty file; the first line names the columns") from None
    except csv.Error as exc:
        raise CrmError(f"{source}:1: {exc}") from None
    header = [h.strip() for h in header]
    missing = [c for c in [*mapping.columns, *filter(None, [mapping.key])] if c not in header]
    if missing:
        raise CrmError(
            f"{source}: the mapping names column(s) the file does not have: "
            + ", ".join(repr(c) for c in missing),
            hint=f"the file's columns: {', '.join(map(repr, header))}",
        )
    warnings = []
    unmapped = [h for h in header if h and h not in mapping.columns and h != mapping.key]
    if unmapped:
        warnings.append(f"column(s) not in the mapping, ignored: {', '.join(map(repr, unmapped))}")
    from crmfiles.export import field_types

    types = field_types(RECORD_FOLDERS[folder])
    rows: list[_Row] = []
    keys: dict[str, int] = {}  # key -> the row that has it
    start = reader.line_num + 1
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            rows.append(_Row(number, start, {}, [f"cannot read the row: {exc}"]))
            start = reader.line_num + 1
            continue
        if not any(c.strip() for c in cells):
            start = reader.line_num + 1
            continue  # a blank line is not a row
        number += 1
        row = _Row(number, start, {}, [])
        if len(cells) > len(header):
            row.reasons.append(f"{len(cells)} cells, but the header names {len(header)} columns")
        by_column = dict(zip(header, cells, strict=False))
        for column, target in mapping.columns.items():
            cell = by_column.get(column, "").strip()
            if target is None or cell == "":
                continue
            _set(row, target, _convert(row, column, target, cell, mapping, types))
        for target, value in mapping.defaults.items():
            if _get(row.data, target) is None:
                _set(row, target, value)
        if mapping.key is not None:
            _keyed(row, by_column.get(mapping.key, "").strip(), mapping.key, keys)
        rows.append(row)
        start = reader.line_num + 1
    return rows, warnings


def _keyed(row: _Row, key: str, column: str, keys: dict[str, int]) -> None:
    """Give the row its key (stored as external_id), or a reason to refuse it."""
    if not key:
        row.reasons.append(f"no key: column {column!r} is empty")
    elif key in keys:
        row.reasons.append(f"key {key!r} (column {column!r}) is on row {keys[key]} too")
    else:
        keys[key] = row.number
        row.key = key
        row.data[KEY_FIELD] = key


def _convert(
    row: _Row, column: str, target: str, cell: str, mapping: Mapping, types: dict[str, str]
) -> Any:
    kind = types.get(target)
    mapped = mapping.values.get(target, {})
    if kind == "array":
        items = [i.strip() for i in cell.split(mapping.separator) if i.strip()]
        return [mapped.get(i, i) for i in items]
    value: Any = mapped.get(cell, cell)
    if not isinstance(value, str):
        return value  # the value map gave a typed value
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            row.reasons.append(f"column {column!r}: {value!r} is not a whole number")
            return None
    if kind == "number":
        try:
            number = Decimal(value.replace(" ", "").replace("_", ""))
        except InvalidOperation:
            row.reasons.append(f"column {column!r}: {value!r} is not a number")
            return None
        if not number.is_finite():
            row.reasons.append(f"column {column!r}: {value!r} is not a number")
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "boolean":
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        row.reasons.append(f"column {column!r}: {value!r} is not yes/no")
        return None
    return value


def _get(data: dict[str, Any], target: str) -> Any:
    for part in target.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)  # type: ignore[assignment]
    return data


def _set(row: _Row, target: str, value: Any) -> None:
    if value is None:
        return
    *parents, last = target.split(".")
    node = row.data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            row.reasons.append(f"field {target!r} nests under {part!r}, which is not a mapping")
            return
        node = child
    node[last] = value


def _place(repo: Repository, folder: str, row: _Row, taken: set[str]) -> None:
    """Give the row its id (its own, or one made from its name), its path under
    crm.yaml's layout, and its text, written the way ``crm new`` writes."""
    from crmfiles.ops.fmt import layout_target
    from crmfiles.ops.new import ordered
    from crmfiles.ops.yamltext import dump

    given = row.data.get("id")
    if given is not None:
        record_id = str(given)
        if not is_valid_id(record_id):
            row.reasons.append(
                f"id {record_id!r} is not valid: lower case letters, digits, '.', '_' and "
                "'-', at most 80 characters"
            )
            return
        if record_id in taken:
            row.reasons.append(f"id {record_id!r} exists already")
            return
    else:
        name = row.data.get("name")
        if not isinstance(name, str) or not name.strip():
            row.reasons.append("no id and no name to make one from")
            return
        record_id = unique(slug(name) or RECORD_FOLDERS[folder], taken)
    taken.add(record_id)
    row.id = record_id
    row.data["id"] = record_id
    if folder == "opportunities":
        # a deal brought in from another system may be at any stage (stage-start
        # exempts it), and is as new to this repository as one made with `crm new`
        row.data.setdefault("origin", {"type": "import"})
    # every record type with a date of entry gets today's, as with `crm new`
    entered = {"leads": "created", "tasks": "created"}.get(folder, "opened")
    if folder in ("opportunities", "partners", "contacts", "leads", "tasks"):
        row.data.setdefault(entered, dt.date.today().isoformat())
    data = ordered(folder, row.data)
    path = layout_target(f"{folder}/{record_id}.yaml", data, repo.config, dt.date.today())
    assert path is not None
    if (repo.root / path).exists():
        row.reasons.append(f"{path} exists already")
        return
    row.path = path
    row.text = dump(path, data)


def slug(text: str, limit: int = 60) -> str:
    """``Müller Logistik – E25 fleet`` -> ``muller-logistik-e25-fleet``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:limit].strip("-")


def unique(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... whichever is free."""
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted[: 80 - len(str(n)) - 1].rstrip('-')}-{n}"
    return candidate


def _check(root: Path, rows: Sequence[_Row], *, again: bool) -> list[str]:
    """Check the new files together with the repository; put every error on its row,
    and return the warnings.  With ``again`` (a partial import), check what is left
    until nothing more is refused: leaving a row out can change what the others mean
    (a duplicate name is reported on one of the two)."""
    from crmfiles.check import check
    from crmfiles.records.sources import Overlay
    from crmfiles.records.worktree import WorkTree

    pending = [r for r in rows if r.path is not None]
    warnings: list[str] = []
    for _ in range(3 if again else 1):
        if not pending:
            break
        warnings = []
        by_path = {r.path: r for r in pending}
        changes: dict[str, bytes | None] = {
            r.path: r.text.encode("utf-8") for r in pending if r.path and r.text
        }
        report = check(Overlay(WorkTree(root), changes), only=list(changes))
        refused = False
        for diagnostic in report.diagnostics:
            row = by_path.get(diagnostic.path)
            if row is None:
                continue
            if diagnostic.severity.value != "error":
                warnings.append(f"row {row.number}: {diagnostic.message} [{diagnostic.rule}]")
                continue
            row.reasons.append(f"{diagnostic.message} [{diagnostic.rule}]")
            refused = True
        if not refused:
            break
        pending = [r for r in pending if not r.reasons]
    return warnings
