"""The mapping file of ``crm import csv``: which CSV column becomes which field (see
``crmfiles.importer``).  Any problem with it is a usage error (exit 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.records.yamlio import ParseError, parse


@dataclass
class Mapping:
    columns: dict[str, str | None]
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    separator: str = ";"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    key: str | None = None  # the CSV column that names a row: stored as external_id


def load_mapping(path: Path) -> Mapping:
    """Read a mapping file; any problem is a usage error (exit 2)."""
    try:
        data = parse(path.read_text("utf-8"))
    except OSError as exc:
        raise CrmError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ParseError) as exc:
        raise CrmError(f"{path}: not a YAML mapping file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise CrmError(
            f"{path}: a mapping file needs `columns:`, a mapping of CSV column to field",
            hint="see `crm import --help`",
        )
    values = data.get("values") or {}
    defaults = data.get("defaults") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise CrmError(f"{path}: `values:` maps each field to a mapping of CSV value to value")
    if not isinstance(defaults, dict):
        raise CrmError(f"{path}: `defaults:` is a mapping of field to value")
    known = {"columns", "values", "defaults", "separator", "delimiter", "encoding", "key"}
    unknown = set(data) - known
    if unknown:
        raise CrmError(f"{path}: unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    columns = {str(k): (None if v is None else str(v)) for k, v in data["columns"].items()}
    key = data.get("key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise CrmError(f"{path}: `key:` names one CSV column (the row's id in its system)")
    delimiter = str(data.get("delimiter", ","))
    if len(delimiter) != 1:
        raise CrmError(f"{path}: `delimiter:` is one character")
    return Mapping(
        columns,
        {str(k): {str(a): b for a, b in v.items()} for k, v in values.items()},
        {str(k): v for k, v in defaults.items()},
        str(data.get("separator", ";")),
        delimiter,
        str(data.get("encoding", "utf-8-sig")),
        key.strip() if key else None,
    )
