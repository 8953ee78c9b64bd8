"""``crm blame ID``: who last changed each field of a record (crmfiles.history.blame)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crmfiles.config import find_root


def add_blame_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="a record: ID, TYPE/ID or its file")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def _json_value(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_blame(args: argparse.Namespace) -> int:
    from crmfiles.history.blame import blame, show

    root = find_root(explicit=args.repo)
    found = blame(root, args.id)
    if args.format == "json":
        payload = {
            "version": 1,
            "id": found.id,
            "path": found.path,
            "fields": [
                {
                    "field": f.field,
                    "value": _json_value(f.value),
                    "commit": f.change.commit,
                    "author": f.change.author,
                    "email": f.change.email,
                    "date": f.change.date.isoformat(),
                    "subject": f.change.subject,
                    "added": f.added,
                    "previous": None if f.added else _json_value(f.previous),
                }
                for f in found.fields
            ],
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    sys.stdout.write(f"{found.path} ({found.versions} commits)\n")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("field", "value", "by", "date", "commit", "before"):
        table.add_column(column, overflow="fold")
    for f in found.fields:
        table.add_row(
            f.field,
            show(f.value, 40),
            f.change.author,
            f.change.date.date().isoformat(),
            f.change.commit[:10],
            "(new)" if f.added else show(f.previous, 30),
        )
    Console(width=None if sys.stdout.isatty() else 10_000, highlight=False).print(table)
    return 0
