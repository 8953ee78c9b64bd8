"""The plain outputs ``crm history`` and ``crm report`` share: their formats, JSON and
CSV on stdout."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "json", "csv")


def dump_json(payload: Any) -> None:
    import json

    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def write_csv(records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    from crmfiles import csvsafe

    writer = csvsafe.Writer(sys.stdout)
    if columns is None:
        columns = list(records[0]) if records else []
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else record.get(c) for c in columns])
