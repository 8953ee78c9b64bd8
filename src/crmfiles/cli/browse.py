"""``crm list`` and ``crm show``."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from decimal import Decimal
from typing import Any

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
        writer = csv.writer(sys.stdout, lineterminator="\n")
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


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    # on a terminal, long names are cut with an ellipsis; piped, every row is one line
    console = Console() if sys.stdout.isatty() else Console(width=10_000, no_color=True)
    numeric = {"amount", "weighted", "probability", "age"}
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in result.columns:
        table.add_column(
            column,
            justify="right" if column in numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            ratio=2 if column in ("name", "partner_name") else None,
        )
    for row in result.rows:
        table.add_row(*[_cell(row.value(c)) for c in result.columns])
    console.print(table)
    base = result.base
    amount, weighted = result.amount, result.weighted
    if amount.in_base is None:
        parts = ", ".join(f"{fmt(v)} {k}" for k, v in sorted(amount.by_currency.items()))
        console.print(
            f"{len(result.rows)} opportunities; totals per currency: {parts} "
            f"(no rate for {', '.join(amount.missing_rates)} in "
            "catalogs/currencies.yaml)"
        )
        return
    note = ""
    if amount.converted:
        others = ", ".join(k for k in sorted(amount.by_currency) if k != base)
        note = f" ({others} converted to {base} at the rates of catalogs/currencies.yaml)"
    console.print(
        f"{len(result.rows)} opportunities   total {fmt(amount.in_base)} {base}   "
        f"weighted {fmt(weighted.in_base)} {base}{note}"
    )


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
