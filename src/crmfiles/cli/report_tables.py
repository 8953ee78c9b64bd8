"""The reports as terminal tables (rich), with bars where a person would rather look
than read.  Every figure comes from the report's JSON payload, so table and JSON can
never disagree."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from crmfiles.money import fmt
from crmfiles.reports.common import bar, percent

BAR_WIDTH = 30


def _console() -> Any:
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=200, no_color=True, highlight=False)


def _table(*columns: str, numeric: tuple[str, ...] = ()) -> Any:
    if not sys.stdout.isatty():
        return _Laid(columns, numeric)
    return _rich_table(columns, numeric, [])


def _rich_table(
    columns: tuple[str, ...], numeric: tuple[str, ...], rows: list[tuple[Any, ...] | None]
) -> Any:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
    for row in rows:
        if row is None:
            table.add_section()
        else:
            table.add_row(*row)
    return table


class _Laid:
    """A report's table for a file or a pipe, laid out here as rich lays out its own
    (no box, columns two spaces apart, right-justified numbers, every line padded to
    the table's width): rich measures a table of 1,000 competitors for longer than the
    report takes.  Cells are read as rich reads them (markup, emoji codes); a table
    wider than the console, or a cell of several lines, is rich's to lay out."""

    def __init__(self, columns: tuple[str, ...], numeric: tuple[str, ...]) -> None:
        self.columns, self.numeric = columns, numeric
        self.rows: list[tuple[Any, ...] | None] = []

    def add_row(self, *cells: Any) -> None:
        self.rows.append(cells)

    def add_section(self) -> None:
        self.rows.append(None)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len
        from rich.text import Text

        def plain(cell: Any) -> str | None:
            if not isinstance(cell, str):
                return None
            if "[" in cell or ":" in cell:
                return str(console.render_str(cell).plain)
            return cell

        read = [[plain(c) for c in row] for row in self.rows if row is not None]
        header = [plain(c) or "" for c in self.columns]
        lines: list[list[str]] = [header]
        for cells in read:
            if len(cells) != len(header) or any(c is None or "\n" in c for c in cells):
                yield _rich_table(self.columns, self.numeric, self.rows)
                return
            lines.append([c for c in cells if c is not None])
        widths = [max(cell_len(line[i]) for line in lines) for i in range(len(header))]
        if sum(widths) + 2 * (len(widths) - 1) > options.max_width:
            yield _rich_table(self.columns, self.numeric, self.rows)
            return
        right = [c in self.numeric for c in self.columns]
        text = "\n".join(
            "  ".join(
                " " * (w - cell_len(c)) + c if r else c + " " * (w - cell_len(c))
                for c, w, r in zip(line, widths, right, strict=True)
            )
            for line in lines
        )
        yield Text(text, no_wrap=True, overflow="ignore", end="\n")


def _money(value: str | None) -> str:
    return "" if value is None else fmt(Decimal(value))


def _number(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def _footer(console: Any, payload: dict[str, Any], label: str) -> None:
    notes = [f"amounts in {payload.get('currency')}"] if payload.get("currency") else []
    if payload.get("converted"):
        notes.append(
            f"{', '.join(payload['converted'])} converted at the rates of catalogs/currencies.yaml"
        )
    if payload.get("missing_rates"):
        notes.append(
            f"no rate for {', '.join(payload['missing_rates'])}: totals with it are left blank"
        )
    period = payload.get("period") or {}
    if period.get("from") or period.get("to"):
        notes.append(f"period {period.get('from') or '…'} to {period.get('to') or '…'}")
    notes.append(f"as of {label}")
    console.print("; ".join(notes), style="dim")


def render(name: str, result: Any, payload: dict[str, Any], label: str) -> None:
    console = _console()
    {
        "funnel": _funnel,
        "forecast": _forecast,
        "dropoff": _dropoff,
        "winloss": _winloss,
        "activity": _activity,
        "invoicing": _invoicing,
    }[name](console, result, payload)
    _footer(console, payload, label)


def _funnel(console: Any, result: Any, payload: dict[str, Any]) -> None:
    console.print(f"[bold]Funnel[/bold]: {result.kind_name} ({result.kind}), open opportunities")
    table = _table(
        "stage", "count", "amount", "weighted", "", numeric=("count", "amount", "weighted")
    )
    largest = max((_number(s["amount"]) for s in payload["stages"]), default=Decimal(0))
    names = {s.stage: s.name for s in result.stages}
    for stage in payload["stages"]:
        table.add_row(
            names.get(stage["stage"], stage["stage"]),
            str(stage["count"]),
            _money(stage["amount"]),
            _money(stage["weighted"]),
            bar(_number(stage["amount"]), largest, BAR_WIDTH),
        )
    table.add_section()
    table.add_row(
        "open",
        str(payload["open"]["count"]),
        _money(payload["open"]["amount"]),
        _money(payload["open"]["weighted"]),
        "",
    )
    for group in ("won", "lost"):
        table.add_row(group, str(payload[group]["count"]), _money(payload[group]["amount"]), "", "")
    console.print(table)
    extra = []
    if payload["undated"]:
        extra.append(f"{payload['undated']} open without an expected close (left out)")
    if payload["off_stage"]:
        extra.append(f"{payload['off_stage']} open in a stage the kind does not list")
    if result.other_kinds:
        extra.append(f"other kinds: {', '.join(result.other_kinds)} (--kind K)")
    if extra:
        console.print("; ".join(extra), style="dim")


def _forecast(console: Any, result: Any, payload: dict[str, Any]) -> None:
    kind = f" ({payload['kind']})" if payload["kind"] else ""
    console.print(f"[bold]Forecast[/bold]{kind}: open opportunities by expected close")
    table = _table(
        "month",
        "count",
        "amount",
        "weighted",
        "",
        "won",
        numeric=("count", "amount", "weighted", "won"),
    )
    largest = max((_number(m["weighted"]) for m in payload["months"]), default=Decimal(0))
    for month in payload["months"]:
        late = f" ({month['overdue']} overdue)" if month["overdue"] else ""
        table.add_row(
            month["month"] + late,
            str(month["count"]),
            _money(month["amount"]),
            _money(month["weighted"]),
            bar(_number(month["weighted"]), largest, BAR_WIDTH),
            _money(month["won"]) if month["won_count"] else "",
        )
    undated = payload["undated"]
    if undated["count"]:
        table.add_section()
        table.add_row(
            "no date",
            str(undated["count"]),
            _money(undated["amount"]),
            _money(undated["weighted"]),
            "",
            "",
        )
    console.print(table)


def render_compare(compare: dict[str, Any], currency: str | None) -> None:
    """``--compare REV``: each month's weighted forecast beside REV's."""
    console = _console()
    rev = compare["rev"]
    console.print()
    console.print(f"[bold]Weighted forecast[/bold]: this revision against {rev}")
    table = _table("month", "this", rev, "difference", numeric=("this", rev, "difference"))
    for row in [*compare["months"], {"month": "total", **compare["total"]}]:
        if row["month"] == "total":
            table.add_section()
        difference = row["difference"]
        table.add_row(
            row["month"],
            _money(row["weighted"]),
            _money(row["compare_weighted"]),
            ("+" if difference and Decimal(difference) > 0 else "") + _money(difference),
        )
    console.print(table)
    console.print(f"amounts in {currency}; {rev} is {compare['commit'][:9]}", style="dim")


def _dropoff(console: Any, result: Any, payload: dict[str, Any]) -> None:
    console.print(
        f"[bold]Drop-off[/bold]: {result.kind_name} ({result.kind}), "
        f"{payload['total']} opportunities"
    )
    table = _table(
        "stage",
        "reached",
        "",
        "lost here",
        "open here",
        "to next",
        numeric=("reached", "lost here", "open here", "to next"),
    )
    largest = max((s["reached"] for s in payload["stages"]), default=0)
    names = {s.stage: s.name for s in result.stages}
    for stage in payload["stages"]:
        table.add_row(
            names.get(stage["stage"], stage["stage"]),
            str(stage["reached"]),
            bar(stage["reached"], largest, BAR_WIDTH),
            str(stage["lost"]),
            str(stage["open"]),
            percent(stage["conversion"]),
        )
    console.print(table)
    console.print(
        f"won {payload['won']}, lost {payload['lost']}, open {payload['open']}; "
        f"win rate {percent(payload['win_rate']) or 'n/a'}"
    )


def _winloss(console: Any, result: Any, payload: dict[str, Any]) -> None:
    won, lost = payload["won"], payload["lost"]
    console.print(
        f"[bold]Win/loss[/bold]: won {won['count']} ({_money(won['amount'])}), "
        f"lost {lost['count']} ({_money(lost['amount'])}), "
        f"win rate {percent(payload['win_rate']) or 'n/a'}"
    )
    if payload["by_reason"]:
        table = _table("loss reason", "lost", "amount", numeric=("lost", "amount"))
        for r in payload["by_reason"]:
            table.add_row(r["name"] or "(none)", str(r["count"]), _money(r["amount"]))
        console.print()
        console.print(table)
    if payload["by_competitor"]:
        table = _table(
            "competitor",
            "deals",
            "we won",
            "we lost",
            "they took",
            "win rate",
            numeric=("deals", "we won", "we lost", "they took", "win rate"),
        )
        for c in payload["by_competitor"]:
            table.add_row(
                c["name"],
                str(c["deals"]),
                str(c["won"]),
                str(c["lost"]),
                str(c["lost_to"]),
                percent(c["win_rate"]),
            )
        console.print()
        console.print(table)
    if payload["by_responsible"]:
        table = _table(
            "responsible",
            "won",
            "amount won",
            "lost",
            "amount lost",
            "win rate",
            numeric=("won", "amount won", "lost", "amount lost", "win rate"),
        )
        for p in payload["by_responsible"]:
            table.add_row(
                p["name"] or "(none)",
                str(p["won"]),
                _money(p["won_amount"]),
                str(p["lost"]),
                _money(p["lost_amount"]),
                percent(p["win_rate"]),
            )
        console.print()
        console.print(table)


def _activity(console: Any, result: Any, payload: dict[str, Any]) -> None:
    weeks = payload["weeks"]
    console.print("[bold]Activity[/bold]: stage and status changes per person per ISO week")
    labels = [w.split("-")[1] for w in weeks]
    table = _table("person", *labels, "total", numeric=(*labels, "total"))
    for person in payload["people"]:
        cells = [str(person["weeks"][w] or "·") for w in weeks]
        table.add_row(person["name"], *cells, str(person["moves"]))
    table.add_section()
    total = payload["total"]
    table.add_row("total", *[str(total["weeks"][w] or "·") for w in weeks], str(total["moves"]))
    console.print(table)
    if weeks:
        console.print(f"weeks {weeks[0]} to {weeks[-1]}", style="dim")


def _invoicing(console: Any, result: Any, payload: dict[str, Any]) -> None:
    console.print("[bold]Invoicing[/bold]: ordered, invoiced, paid and open by month")
    measures = ("ordered", "invoiced", "paid", "open")
    table = _table("month", *measures, numeric=measures)
    for month in payload["months"]:
        table.add_row(month["month"], *(_money(month[m]) for m in measures))
    table.add_section()
    table.add_row("total", *(_money(payload["total"][m]) for m in measures))
    console.print(table)
    overdue = payload["overdue"]
    late = f"; {overdue['count']} overdue: {_money(overdue['amount'])}" if overdue["count"] else ""
    console.print(f"left to invoice on the orders: {_money(payload['to_invoice'])}{late}")
