"""``crm list`` and ``crm show``."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
from decimal import Decimal
from typing import Any

from crmfiles import csvsafe
from crmfiles.errors import CrmError
from crmfiles.money import CENT, fmt
from crmfiles.records.store import Repository

LIST_TYPES = ("opportunities",)


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", choices=LIST_TYPES, help="what to list")
    for key, help_text in (
        ("stage", "stage id"),
        ("status", "in_progress, won or lost"),
        ("responsible", "person id"),
        ("tag", "tag id"),
        ("kind", "kind id"),
        ("partner", "partner id"),
    ):
        parser.add_argument(
            f"--{key}",
            action="append",
            default=[],
            metavar=key.upper(),
            help=f"only these ({help_text}); repeat for several",
        )
    parser.add_argument("--open", action="store_true", help="only opportunities in progress")
    parser.add_argument(
        "--view", metavar="V", help="a saved view of views/ ('default' for the default one)"
    )
    parser.add_argument(
        "--sort",
        action="append",
        default=[],
        metavar="COLUMN",
        help="sort by a column; COLUMN:desc (or --sort=-COLUMN) sorts descending",
    )
    parser.add_argument(
        "--columns",
        metavar="C,C,...",
        help="show these columns in this order, e.g. id,name,stage,amount (default: the view's)",
    )
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="a record id, or TYPE/ID")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    return value


def run_list(args: argparse.Namespace) -> int:
    from crmfiles.reports.pipeline import listing

    repo = Repository.find(args.repo)
    filters = {
        key: getattr(args, key)
        for key in ("stage", "status", "responsible", "tag", "kind", "partner")
    }
    if args.open:
        filters["status"] = ["in_progress"]
    result = listing(repo, filters, args.view, args.sort)
    asked = getattr(args, "columns", None)
    if asked is not None:
        result.columns = _columns(asked)
    elif args.format == "table" and "id" not in result.columns:
        # a view without ids: the table still leads with the one handle every command takes
        result.columns = ("id", *result.columns)
    if args.format == "json":
        payload = {
            "version": 1,
            "opportunities": [
                {c: _json_value(r.value(c)) for c in result.columns} for r in result.rows
            ],
            "totals": {
                "count": len(result.rows),
                "currency": result.base,
                "amount": _json_value(result.amount.in_base),
                "weighted": _json_value(result.weighted.in_base),
                "by_currency": {k: str(v) for k, v in sorted(result.amount.by_currency.items())},
                "converted": result.amount.converted,
                "missing_rates": result.amount.missing_rates,
            },
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if args.format == "csv":
        writer = csvsafe.Writer(sys.stdout)
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow([_csv_value(row.value(c)) for c in result.columns])
        return 0
    _print_table(result)
    return 0


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(value: Any) -> str:
    if isinstance(value, Decimal):
        return fmt(value)
    return _csv_value(value).replace(";", ", ")


def _columns(asked: str) -> tuple[str, ...]:
    """``--columns id,name,stage``: known column names, in the asked order."""
    from crmfiles.reports.pipeline import DERIVED
    from crmfiles.schema import all_schemas

    known = [
        *all_schemas()["opportunity"]["properties"],
        *sorted(DERIVED | {"days_in_stage"}),
    ]
    chosen: list[str] = []
    for name in (part.strip() for part in asked.split(",")):
        if not name or name in chosen:
            continue
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise CrmError(f"no column '{name}'", hint=f"{hint}columns: {', '.join(known)}")
        chosen.append(name)
    if not chosen:
        raise CrmError("--columns names no column", hint="for example --columns id,name,amount")
    return tuple(chosen)


def _terminal_width() -> int | None:
    """The width to fit: $COLUMNS, else the terminal's; piped, none (every column whole,
    every row one line, for grep and files)."""
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.text import Text

    from crmfiles.cli.table_fit import Table, fill

    width = _terminal_width()
    table = Table(
        result.columns, [[_cell(row.value(c)) for c in result.columns] for row in result.rows]
    )
    header, *body = table.lines(table.fit(width))
    # the lines are laid out already (soft_wrap: rich neither wraps nor crops them);
    # rich only makes the header bold on a terminal
    console = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
    console.print(Text(header, style="bold"))
    body.extend(fill(_totals(result), width))
    sys.stdout.write("\n".join(body) + "\n")


def _totals(result: Any) -> list[str]:
    """The footer in parts that are never split across lines."""
    count = f"{len(result.rows)} opportunities"
    base = result.base
    amount, weighted = result.amount, result.weighted
    if amount.in_base is None:
        return [
            count,
            "totals per currency: "
            + ", ".join(f"{fmt(v)} {k}" for k, v in sorted(amount.by_currency.items())),
            f"(no rate for {', '.join(amount.missing_rates)} in catalogs/currencies.yaml)",
        ]
    parts = [
        count,
        f"total {fmt(amount.in_base)} {base}",
        f"weighted {fmt(weighted.in_base)} {base}",
    ]
    if amount.converted:
        others = ", ".join(k for k in sorted(amount.by_currency) if k != base)
        parts.append(f"({others} converted to {base} at the rates of catalogs/currencies.yaml)")
    return parts


def run_show(args: argparse.Namespace) -> int:
    repo = Repository.find(args.repo)
    record = repo.get(args.id)
    if args.format == "json":
        json.dump(
            {"version": 1, "type": record.folder, "path": record.path, "record": record.data},
            sys.stdout,
            indent=2,
            ensure_ascii=False,
            default=str,
        )
        sys.stdout.write("\n")
        return 0
    if not record.text:
        raise CrmError(f"{record.path} is empty")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.syntax import Syntax

        Console().print(f"[bold]{record.path}[/bold]")
        Console().print(Syntax(record.text, "yaml", background_color="default"))
    else:
        sys.stdout.write(record.text if record.text.endswith("\n") else record.text + "\n")
    return 0
