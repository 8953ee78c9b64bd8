"""``crm list``: every record type as a table, CSV or JSON; which rows, in which order,
with which columns (the output itself: :mod:`crmfiles.cli.list_output`)."""

from __future__ import annotations

import argparse
from typing import Any

from crmfiles.answers import answered, write
from crmfiles.cli.list_output import csv_text, json_text, print_header, table_text, terminal_width
from crmfiles.errors import CrmError
from crmfiles.records.store import Repository

LIST_TYPES = ("opportunities", "partners", "contacts", "leads", "interactions", "tasks",
              "quotes", "orders", "invoices")  # fmt: skip
# the filters of the opportunity list; the others' are in reports/lists.py
OPPORTUNITY_FILTERS = ("stage", "status", "responsible", "tag", "kind", "partner", "open")
# filter option -> (dest, help)
MANY = {
    "stage": "stage id (opportunities)",
    "status": "status (opportunities, leads, quotes, orders, invoices)",
    "responsible": "person id (opportunities, partners, contacts, leads, interactions)",
    "tag": "tag id (opportunities, partners, contacts, leads)",
    "kind": "kind id (opportunities)",
    "partner": "partner id (opportunities, contacts, interactions, quotes, orders, invoices)",
    "role": "partner role (partners)",
    "opportunity": "opportunity id (interactions, quotes, orders, invoices)",
    "type": "interaction type: call, meeting, ... (interactions)",
    "assignee": "person id (tasks)",
    "subject": "the record a task is about (tasks)",
}
SWITCHES = {
    "open": "opportunities in progress; tasks not done",
    "done": "tasks done",
    "overdue": "tasks not done and due before today; open invoices past their due date",
}


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "type",
        nargs="?",
        default="opportunities",
        choices=LIST_TYPES,
        help="what to list (default: opportunities)",
    )
    for key, help_text in MANY.items():
        parser.add_argument(
            f"--{key}",
            dest=f"filter_{key}",
            action="append",
            default=[],
            metavar=key.upper(),
            help=f"only these ({help_text}); repeat for several",
        )
    parser.add_argument(
        "--since", metavar="DATE", help="interactions on or after DATE (YYYY-MM-DD)"
    )
    for key, help_text in SWITCHES.items():
        parser.add_argument(f"--{key}", dest=f"filter_{key}", action="store_true", help=help_text)
    views = parser.add_mutually_exclusive_group()
    views.add_argument(
        "--view",
        metavar="V",
        help="a saved view of views/ (opportunities; default: the view marked default)",
    )
    views.add_argument(
        "--no-view", action="store_true", help="every opportunity, ignoring the default view"
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


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The filters given, refused when they do not fit the type listed."""
    from crmfiles.reports.common import parse_date
    from crmfiles.reports.lists import KINDS

    folder = args.type
    fits = OPPORTUNITY_FILTERS if folder == "opportunities" else KINDS[folder].filters
    given: dict[str, Any] = {
        key: getattr(args, f"filter_{key}")
        for key in (*MANY, *SWITCHES)
        if getattr(args, f"filter_{key}")
    }
    if args.since is not None:
        given["since"] = parse_date(args.since, "--since")
    for key in given:
        if key not in fits:
            raise CrmError(
                f"--{key} is not a filter of {folder}",
                hint=f"filters of {folder}: {', '.join('--' + k for k in fits)}",
            )
    if (args.view or args.no_view) and folder != "opportunities":
        raise CrmError(
            "saved views are of opportunities", hint=f"crm list {folder} takes no --view"
        )
    return given


def run_list(args: argparse.Namespace) -> int:
    from crmfiles.reports.lists import known_columns

    repo = Repository.find(args.repo)
    filters = _filters(args)
    known = known_columns(args.type)
    asked = _columns(args.columns, known) if args.columns is not None else None
    width = terminal_width() if args.format == "table" else None
    question = ("list", str(repo.root), args.type, filters, args.view, args.no_view,
                args.sort, asked, args.format, width)  # fmt: skip

    def compute() -> tuple[str | None, str]:
        # opportunities: worked out from the facts cache while git looks at the work
        # tree, and again in the rare case git says an opportunity, partner or view
        # changed
        if args.type == "opportunities":
            return repo.provisionally(lambda: _answer(repo, args, dict(filters), asked, width))
        return _answer(repo, args, filters, asked, width)

    header, text = answered(repo.source, question, compute, detach=args.runtime.detach)
    if header is not None:
        print_header(header)
    write(text)
    return 0


def _answer(
    repo: Repository,
    args: argparse.Namespace,
    filters: dict[str, Any],
    asked: Any,
    width: int | None,
) -> tuple[str | None, str]:
    """The list as text: the table's header (None in JSON and CSV) and the rest."""
    from crmfiles.reports.lists import item_listing

    if args.type == "opportunities":
        result: Any = _opportunities(repo, args, filters, asked)
    else:
        result = item_listing(repo, args.type, filters, args.sort, asked)
    if asked is None and args.format == "table" and "id" not in result.columns:
        # a view without ids: the table still leads with the one handle every command takes
        result.columns = ("id", *result.columns)
    if args.format == "json":
        return None, json_text(args.type, result)
    if args.format == "csv":
        return None, csv_text(result)
    return table_text(args.type, result, width)


def _opportunities(
    repo: Repository, args: argparse.Namespace, filters: dict[str, Any], asked: Any
) -> Any:
    from crmfiles.reports.deal_list import listing
    from crmfiles.reports.lists import Context, check_filters, check_sort, known_columns
    from crmfiles.reports.pipeline import as_list, view

    check_filters(Context(repo), "opportunities", filters)
    check_sort(args.sort, known_columns("opportunities"))
    if filters.pop("open", False):
        filters["status"] = ["in_progress"]
    view_id = None if args.no_view else args.view or "default"
    chosen = view(repo, view_id)
    wanted = [*(asked or chosen.get("columns") or ()), *args.sort, *as_list(chosen.get("sort"))]
    days = _days(repo) if any(w.lstrip("-+").startswith("days_in_stage") for w in wanted) else None
    result = listing(repo, filters, view_id, args.sort, days=days, shown=asked or ())
    if asked is not None:
        result.columns = asked
    return result


def _days(repo: Repository) -> dict[str, int]:
    """Days in the current stage, from git history (as the TUI shows them); none
    outside git."""
    from crmfiles import git
    from crmfiles.history import days_in_stage

    try:
        return days_in_stage(repo.root)
    except git.GitError:
        return {}


def _columns(asked: str, known: list[str]) -> tuple[str, ...]:
    """``--columns id,name,stage``: known column names, in the asked order."""
    from crmfiles.reports.lists import check_column

    chosen: list[str] = []
    for name in (part.strip() for part in asked.split(",")):
        if not name or name in chosen:
            continue
        check_column(name, known)
        chosen.append(name)
    if not chosen:
        raise CrmError("--columns names no column", hint="for example --columns id,name,amount")
    return tuple(chosen)
