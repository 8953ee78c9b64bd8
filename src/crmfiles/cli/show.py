"""``crm show ID``: one record for a person (names resolved, money computed, what
refers to it), or the stored record as YAML or JSON."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crmfiles.cli.table_fit import Spec
from crmfiles.errors import CrmError
from crmfiles.money import fmt
from crmfiles.records.store import Record, Repository


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="a record id, or TYPE/ID")
    parser.add_argument(
        "--format",
        choices=("text", "yaml", "json"),
        default="text",
        help="text: for a person (default); yaml: the file as stored; json: the stored "
        "record and the computed values",
    )


def run_show(args: argparse.Namespace) -> int:
    repo = Repository.find(args.repo)
    record = repo.get(args.id)
    if args.format == "yaml":
        if not record.text:
            raise CrmError(f"{record.path} is empty")
        sys.stdout.write(record.text if record.text.endswith("\n") else record.text + "\n")
        return 0
    from crmfiles.reports.record import dossier

    shown = dossier(repo, record, _days(repo, record))
    if args.format == "json":
        payload = {
            "version": 1,
            "type": record.folder,
            "path": record.path,
            "record": record.data,
            "computed": shown.computed(),
        }
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return 0
    _print(shown)
    return 0


def _days(repo: Repository, record: Record) -> int | None:
    """Days in the current stage, from this record's part of the history cache."""
    if record.folder != "opportunities":
        return None
    import datetime as dt

    from crmfiles import git
    from crmfiles.history import load_record, position_of

    try:
        where = position_of(load_record(repo.root, record.id), record.id)
    except git.GitError:
        return None
    return where.days(dt.date.today()) if where else None


# --- the text rendering -----------------------------------------------------------------

SINGULAR = {"opportunities": "Opportunity", "partners": "Partner", "contacts": "Contact",
            "leads": "Lead", "interactions": "Interaction", "tasks": "Task", "quotes": "Quote",
            "orders": "Order", "invoices": "Invoice", "views": "View"}  # fmt: skip


def _print(shown: Any) -> None:
    from rich.console import Console
    from rich.text import Text

    from crmfiles.cli.list_output import terminal_width
    from crmfiles.config import use_color

    buffer = io.StringIO()
    width = terminal_width()
    console = Console(
        file=buffer,
        width=width or 100,
        force_terminal=use_color(sys.stdout),
        no_color=not use_color(sys.stdout),
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.fit = width  # type: ignore[attr-defined]  # the width tables fit (None: piped)
    record = shown.record
    head = Text(f"{SINGULAR.get(record.folder, record.folder)} {record.id}", style="bold")
    if shown.title != record.id:
        head.append(f" – {shown.title}", style="bold")
    console.print(head)
    console.print(Text(record.path, style="dim"), soft_wrap=True)
    console.print()
    rows = [(k.replace("_", " "), v) for k, v in shown.fields]
    rows.extend(_money_rows(shown))
    _pairs(console, rows)
    data = record.data
    if isinstance(data.get("address"), dict):
        _section(console, "Address")
        _pairs(console, [(k.replace("_", " "), str(v)) for k, v in data["address"].items()])
    if isinstance(data.get("insight"), dict):
        _section(console, "Insight")
        _pairs(console, [(k, str(v)) for k, v in data["insight"].items() if v])
    if shown.lines:
        _lines(console, shown)
    competitors = [c for c in data.get("competitors") or [] if isinstance(c, dict)]
    if competitors:
        _section(console, "Competitors")
        _table(
            console,
            ("partner", "outcome", "comment"),
            [
                (_partner(shown, c.get("partner")), str(c.get("outcome") or ""), c.get("comment"))
                for c in competitors
            ],
        )
    _related(console, shown)
    # rich pads every line to the width: the lines are written without the padding
    sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def _money_rows(shown: Any) -> list[tuple[str, str]]:
    cur = shown.currency or ""
    rows: list[tuple[str, str]] = []
    if shown.amount is not None:
        from_lines = shown.lines and "amount" not in shown.record.data
        note = " (sum of the lines)" if from_lines else ""
        rows.append(("amount", f"{fmt(shown.amount)} {cur}{note}"))
    if shown.weighted is not None:
        rows.append(("weighted", f"{fmt(shown.weighted)} {cur}"))
    if shown.margin is not None:
        rows.append(("margin", f"{fmt(shown.margin)} {cur}"))
    if shown.weighted_margin is not None:
        rows.append(("weighted margin", f"{fmt(shown.weighted_margin)} {cur}"))
    if shown.days_in_stage is not None:
        rows.append(("days in stage", str(shown.days_in_stage)))
    return rows


def _pairs(console: Any, rows: Sequence[tuple[str, str]]) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(Text(key), Text(value))
    console.print(grid)


def _section(console: Any, title: str) -> None:
    from rich.text import Text

    console.print()
    console.print(Text(title, style="bold underline"))


# the columns of the tables here that the list's layout does not know
SPECS = {
    "product": Spec(70, min_width=12),
    "qty": Spec(90, numeric=True),
    "unit price": Spec(85, numeric=True),
    "disc%": Spec(60, numeric=True),
    "months": Spec(60, numeric=True),
    "sale type": Spec(50),
    "total": Spec(95, numeric=True),
    "margin%": Spec(55, numeric=True),
    "margin": Spec(56, numeric=True),
    "cur": Spec(90),
    "prob%": Spec(80, numeric=True),
    "outcome": Spec(60),
    "comment": Spec(30, min_width=12),
    "partner": Spec(70, min_width=12),
    "position": Spec(35, min_width=12),
    "email": Spec(40),
    "amount": Spec(95, numeric=True),
}


def _table(
    console: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    footer: Sequence[Any] | None = None,
) -> None:
    """A table laid out as ``crm list`` lays its own out: ids and money whole."""
    from rich.text import Text

    from crmfiles.cli.table_fit import Table

    cells = [[_text(v) for v in row] for row in rows]
    if footer is not None:
        cells.append([_text(v) for v in footer])
    table = Table(columns, cells, SPECS)
    header, *body = table.lines(table.fit(console.fit))
    console.print(Text(header, style="bold"), soft_wrap=True)
    if footer is not None:
        *body, last = body
        body.append("─" * max(len(line) for line in [header, *body, last]))
        body.append(last)
    for line in body:
        console.print(Text(line), soft_wrap=True)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return fmt(value)
    return str(value)


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _partner(shown: Any, ref: Any) -> str:
    from crmfiles.reports.record import _name

    return _name(shown.ctx, "partners", ref) if ref else ""


def _lines(console: Any, shown: Any) -> None:
    _section(console, f"Lines ({shown.currency})")
    months = any(x.months for x in shown.lines)
    types = any(x.sale_type for x in shown.lines)
    columns = ["product"] + (["sale type"] if types else []) + ["qty", "unit price", "disc%"]
    columns += ["months"] if months else []
    columns += ["total", "margin%", "margin"]
    rows = []
    for x in shown.lines:
        what = x.what + (f" ({x.comment})" if x.comment else "")
        row = [what] + ([x.sale_type] if types else [])
        row += [_number(x.quantity), x.unit_price, _number(x.discount)]
        row += [x.months] if months else []
        row += [x.total, _number(x.margin_percent), x.margin]
        rows.append(row)
    total = sum((x.total for x in shown.lines if x.total is not None), Decimal(0))
    footer: list[Any] = ["total"] + ([""] if types else []) + ["", "", ""]
    footer += [""] if months else []
    percent = None
    if shown.margin is not None and total and all(x.margin is not None for x in shown.lines):
        percent = (shown.margin / total * 100).quantize(Decimal("0.1"))
    footer += [total, _number(percent), shown.margin]
    _table(console, columns, rows, footer)


def _related(console: Any, shown: Any) -> None:
    from crmfiles.reports.record import open_first

    ctx = shown.ctx
    related = shown.related
    if "contacts" in related:
        _section(console, f"Contacts ({len(related['contacts'])})")
        _table(
            console,
            ("id", "name", "position", "email", "phone"),
            [_get(r, "id", "name", "position", "email", "phone") for r in related["contacts"]],
        )
    if "opportunities" in related:
        deals = related["opportunities"]
        _section(console, f"Opportunities ({len(deals)})")
        from crmfiles.money import amount_of

        _table(
            console,
            ("id", "name", "stage", "status", "amount", "cur", "prob%"),
            [
                (
                    r.id,
                    r.data.get("name"),
                    r.data.get("stage"),
                    r.data.get("status"),
                    amount_of(r.data, ctx.products),
                    ctx.currency(r.data),
                    r.data.get("probability"),
                )
                for r in deals
            ],
        )
    if "tasks" in related:
        tasks = related["tasks"]
        pending = open_first(tasks)
        done = len(tasks) - len(pending)
        title = f"Open tasks ({len(pending)}" + (f"; {done} done)" if done else ")")
        _section(console, title)
        if pending:
            _table(
                console,
                ("id", "due", "state", "title", "assignee"),
                [
                    (
                        t.id,
                        t.data.get("due"),
                        ctx.state(t.data),
                        t.data.get("title"),
                        ctx.name_of("people", t.data.get("assignee")),
                    )
                    for t in pending
                ],
            )
    if "interactions" in related:
        talks = sorted(related["interactions"], key=lambda r: str(r.data.get("at")), reverse=True)
        _section(console, f"Interactions ({len(talks)})")
        _table(
            console,
            ("id", "at", "type", "subject"),
            [
                (
                    r.id,
                    str(r.data.get("at") or "")[:16].replace("T", " "),
                    r.data.get("type"),
                    r.data.get("subject") or r.data.get("summary"),
                )
                for r in talks
            ],
        )
    for folder, dated in (("quotes", "date"), ("orders", "date"), ("invoices", "date")):
        if folder not in related:
            continue
        docs = related[folder]
        _section(console, f"{folder.capitalize()} ({len(docs)})")
        _table(
            console,
            ("id", dated, "status", "amount", "cur"),
            [
                (
                    r.id,
                    r.data.get(dated),
                    r.data.get("status"),
                    ctx.amount(folder, r.data),
                    ctx.currency(r.data),
                )
                for r in docs
            ],
        )


def _get(record: Record, *keys: str) -> tuple[Any, ...]:
    return tuple(record.id if k == "id" else record.data.get(k) for k in keys)
