"""``crm history`` and ``crm report``: output only; the figures come from
:mod:`crmfiles.history` and :mod:`crmfiles.reports`."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from collections.abc import Sequence
from typing import Any

from crmfiles.config import find_root, use_color
from crmfiles.errors import CrmError

FORMATS = ("table", "json", "csv")
REPORTS = ("funnel", "forecast", "dropoff", "winloss", "activity", "invoicing")
SITE = "html"  # not a report of its own: every report above as a static web page


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "id", nargs="?", metavar="ID", help="one opportunity (default: every stage change)"
    )
    parser.add_argument("--from", dest="start", metavar="DATE", help="changes on or after DATE")
    parser.add_argument("--to", dest="end", metavar="DATE", help="changes on or before DATE")
    parser.add_argument(
        "-n", "--limit", type=int, metavar="N", help="only the N newest changes (all by default)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report", choices=(*REPORTS, SITE), help="which report (html: all of them as a web page)"
    )
    parser.add_argument("--kind", metavar="K", help="one opportunity kind (funnel, dropoff: one)")
    parser.add_argument("--from", dest="start", metavar="DATE", help="period start (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="period end (YYYY-MM-DD)")
    parser.add_argument(
        "--at",
        metavar="DATE|REV",
        help="the repository as it was: the last commit on or before DATE, or a revision",
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="forecast: each month's weighted amount beside REV's, and the difference",
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument(
        "-o", "--output", metavar="DIR", help="html: the folder to write index.html into"
    )
    parser.add_argument(
        "--since", metavar="REV", help="html: also show what moved from REV to the report"
    )


# --- history ---------------------------------------------------------------------------


def run_history(args: argparse.Namespace) -> int:
    from crmfiles.history import (
        all_events,
        events_of,
        load_history,
        load_record,
        newest_events,
        position_of,
        record_id,
    )

    root = find_root(explicit=args.repo)
    window = None
    if args.start is not None or args.end is not None:
        from crmfiles.reports.common import period

        window = period(args.start, args.end)
    if args.id:
        wanted = record_id(args.id) if args.id.endswith((".yaml", ".yml")) else args.id
        wanted = wanted.rpartition("/")[2]
        history = load_record(
            root, wanted, args.runtime
        )  # a warm run reads only this record's part
        if wanted not in history.timelines:
            raise CrmError(
                f"no history for '{wanted}': no commit has an opportunity with that id",
                hint="`crm list opportunities` shows the ids; a new record has history "
                "once it is committed",
            )
        events = [
            e for e in events_of(history, wanted) if window is None or e.date.date() in window
        ]
        if args.limit is not None:
            events = events[-args.limit :] if args.limit > 0 else []
        return _one(root, wanted, events, position_of(history, wanted), args.format)
    if args.limit is not None and (window is None or window.open):
        # a warm run reads only the cache's newest changes
        return _all(newest_events(root, args.limit, args.runtime), args.format)
    events = [
        e
        for e in all_events(load_history(root, runtime=args.runtime), moves_only=True)
        if window is None or e.date.date() in window
    ]
    events.reverse()
    if args.limit is not None:
        events = events[: max(args.limit, 0)]
    return _all(events, args.format)


def _one(root: Any, record_id: str, events: list[Any], where: Any, form: str) -> int:
    from crmfiles.history.approvals import approvals

    today = dt.date.today()
    # a change that arrived by a merge: the merge, and who approved it (its message)
    approved = approvals(root, [e.merge for e in events if e.merge])

    def with_approval(e: Any) -> dict[str, Any]:
        found = approved.get(e.merge) if e.merge else None
        return {**e.as_dict(), "approval": found.as_dict() if found else None}

    if form == "json":
        payload = {
            "version": 1,
            "id": record_id,
            "stage": where.stage if where else None,
            "status": where.status if where else None,
            "since": where.since.isoformat() if where else None,
            "days_in_stage": where.days(today) if where else None,
            "events": [with_approval(e) for e in events],
        }
        _dump(payload)
        return 0
    if form == "csv":
        rows = []
        for e in events:
            row = e.as_dict()
            found = approved.get(e.merge) if e.merge else None
            row["approved_by"] = "; ".join(found.approved_by) if found else None
            rows.append(row)
        _csv(rows)
        return 0
    if where is not None:
        state = where.stage or where.status or ""
        if where.status in ("won", "lost"):
            state = f"{where.status}" + (f" at {where.stage}" if where.stage else "")
        sys.stdout.write(
            f"{record_id}: {state} for {where.days(today)} days "
            f"(since {where.since.date().isoformat()})\n\n"
        )
    else:
        sys.stdout.write(f"{record_id}: deleted\n\n")
    rows = [
        [
            e.date.date().isoformat(),
            e.author,
            e.change,
            e.source,
            e.target,
            _num(e.after.probability if e.after else None),
            _amount(e),
            _num(e.days_in_previous),
            approved[e.merge].label() if e.merge in approved else "",
        ]
        for e in events
    ]
    headers = ["date", "by", "change", "from", "to", "prob", "amount", "days", "merged"]
    if not approved:
        headers.pop()
        rows = [r[:-1] for r in rows]
    _table(headers, rows, {5, 6, 7})
    return 0


def _all(events: list[Any], form: str) -> int:
    if form == "json":
        import json  # here, not at the top: `crm history` starts git sooner

        # one event a line: json's C encoder only runs without indent, and a full
        # history has tens of thousands of events
        encode = json.JSONEncoder(ensure_ascii=False).encode
        body = ",\n  ".join(encode(e.as_dict()) for e in events)
        sys.stdout.write(
            '{"version": 1, "events": [\n  ' + body + "\n]}\n"
            if events
            else '{"version": 1, "events": []}\n'
        )
        return 0
    if form == "csv":
        _csv([e.as_dict() for e in events])
        return 0
    rows = [
        [
            e.date.date().isoformat(),
            e.id,
            e.author,
            e.source,
            e.target,
            _num(e.after.probability if e.after else None),
            _num(e.days_in_previous),
        ]
        for e in events
    ]
    _table(["date", "opportunity", "by", "from", "to", "prob", "days"], rows, {5, 6})
    return 0


def _num(value: Any) -> str:
    return "" if value is None else str(value)


def _amount(event: Any) -> str:
    state = event.after or event.before
    if state is None or state.amount is None:
        return ""
    from decimal import Decimal

    from crmfiles.money import fmt

    return f"{fmt(Decimal(state.amount))} {state.currency or ''}".rstrip()


# --- output helpers --------------------------------------------------------------------


def _dump(payload: Any) -> None:
    import json

    json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _csv(records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    from crmfiles import csvsafe

    writer = csvsafe.Writer(sys.stdout)
    if columns is None:
        columns = list(records[0]) if records else []
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else record.get(c) for c in columns])


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> None:
    """An aligned plain-text table, fast for tens of thousands of rows (rich measures
    every cell; a full history would take seconds)."""
    columns = list(zip(headers, *rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    line = "  ".join(
        f"{{:{'>' if i in right else '<'}{width}}}" for i, width in enumerate(widths)
    ).format
    head = line(*headers).rstrip()
    if use_color(sys.stdout):
        head = f"\x1b[1m{head}\x1b[0m"
    sys.stdout.write("\n".join([head, *(line(*row).rstrip() for row in rows)]) + "\n")


# --- reports ---------------------------------------------------------------------------


def run_report(args: argparse.Namespace) -> int:
    from crmfiles.reports.common import period, snapshot

    if args.report == SITE:
        return _run_site(args)
    for option, value in (("-o/--output", args.output), ("--since", args.since)):
        if value is not None:
            raise CrmError(f"{option} is for `crm report html` only")
    root = find_root(explicit=args.repo)
    window = period(args.start, args.end)
    at = snapshot(root, args.at)
    if args.compare is not None and args.report != "forecast":
        raise CrmError("--compare is for the forecast", hint="crm report forecast --compare main")
    if at.commit is not None or args.compare is not None or sys.stdout.isatty():
        return _report(args, root, window, at)
    # the work tree's report, for a file or a program: an answer kept (crmfiles.answers)
    from crmfiles.answers import answered, write

    question = ("report", str(root), args.report, args.kind, args.start, args.end, args.format)

    def compute() -> tuple[None, str]:
        printed, captured = sys.stdout, io.StringIO()
        sys.stdout = captured
        try:
            _report(args, root, window, at)
        finally:
            sys.stdout = printed
        return None, captured.getvalue()

    write(answered(at.repo.source, question, compute, detach=args.runtime.detach)[1])
    return 0


def _report(args: argparse.Namespace, root: Any, window: Any, at: Any) -> int:
    """The report, printed."""
    if args.report in ("funnel", "forecast", "winloss"):  # (of the facts alone)
        # worked out from the facts cache while git looks at the work tree
        result = at.repo.provisionally(
            lambda: _compute(args.report, at, args.kind, window, args.runtime)
        )
    else:
        result = _compute(args.report, at, args.kind, window, args.runtime)
    payload = {"version": 1, **result.as_json()}
    payload["at"] = None if at.commit is None else {"rev": args.at, "commit": at.commit}
    if args.compare is not None:
        payload["compare"] = _compare(root, args.compare, result, args.kind, window)
    if args.format == "json":
        _dump(payload)
        return 0
    if args.format == "csv":
        if args.compare is not None:
            columns = ["month", "weighted", "compare_weighted", "difference"]
            _csv(payload["compare"]["months"], columns)
            return 0
        columns, records = _csv_rows(args.report, payload)
        _csv(records, columns)
        return 0
    from crmfiles.cli import report_tables

    report_tables.render(args.report, result, payload, at.label)
    if args.compare is not None:
        report_tables.render_compare(payload["compare"], payload.get("currency"))
    return 0


def _run_site(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crmfiles.dashboard.page import render
    from crmfiles.dashboard.site import write_site
    from crmfiles.progress import progress
    from crmfiles.reports.common import period, snapshot
    from crmfiles.reports.dashboard import dashboard

    if args.output is None:
        raise CrmError(
            "crm report html writes a web page: say where", hint="crm report html -o site"
        )
    if args.format != "table":
        raise CrmError(f"--format {args.format}: crm report html writes HTML only")
    root = find_root(explicit=args.repo)
    window = period(args.start, args.end)
    at = snapshot(root, args.at)
    with progress("Computing the dashboard", None):
        board = dashboard(
            root, at, kind=args.kind, period=window, since=args.since, runtime=args.runtime
        )
    written = write_site(Path(args.output), render(board))
    sys.stdout.write(f"wrote {written}\n")
    return 0


def _compare(root: Any, rev: str, this: Any, kind: str | None, window: Any) -> dict[str, Any]:
    """The forecast of ``rev`` (same kind, period and day), beside this one."""
    from crmfiles import git
    from crmfiles.records.gitsources import Revision
    from crmfiles.records.store import Repository
    from crmfiles.reports.forecast import compare, forecast

    commit = git.resolve(rev, root)
    other = forecast(Repository(root, Revision(root, commit)), kind, window, this.today)
    return compare(this, other, rev, commit)


def _compute(name: str, at: Any, kind: str | None, window: Any, runtime: Any) -> Any:
    from crmfiles.progress import progress

    with progress(f"Computing the {name} report", None):
        if name == "funnel":
            from crmfiles.reports.funnel import funnel

            return funnel(at.repo, kind, window)
        if name == "forecast":
            from crmfiles.reports.forecast import forecast

            return forecast(at.repo, kind, window, at.today)
        if name == "winloss":
            from crmfiles.reports.winloss import winloss

            return winloss(at.repo, kind, window)
        if name == "invoicing":
            from crmfiles.reports.invoicing import invoicing

            return invoicing(at.repo, window, at.today)
        from crmfiles.history import load_history, load_summary

        if name == "dropoff":
            from crmfiles.reports.dropoff import SUMMARY_COLUMNS, dropoff

            # the records' summaries only: a part of the history cache
            summary = load_summary(
                at.repo.root, at.commit, columns=SUMMARY_COLUMNS, runtime=runtime
            )
            return dropoff(at.repo, summary, kind, window)
        from crmfiles.reports.activity import activity

        history = load_history(at.repo.root, at.commit, runtime=runtime)
        return activity(at.repo, history, window, at.today)


def _csv_rows(name: str, payload: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The main table of a report as flat rows (``docs/reports.md``)."""
    if name == "funnel":
        rows = [dict(s) for s in payload["stages"]]
        for group in ("open", "won", "lost"):
            rows.append({"stage": f"({group})", **payload[group]})
        return ["stage", "count", "amount", "weighted"], rows
    if name == "forecast":
        columns = ["month", "count", "amount", "weighted", "overdue", "won_count", "won"]
        undated = {"month": "(undated)", **payload["undated"]}
        return columns, [*payload["months"], undated]
    if name == "dropoff":
        return ["stage", "reached", "lost", "open", "conversion"], payload["stages"]
    if name == "winloss":
        columns = ["group", "key", "name", "won", "lost", "amount_won", "amount_lost", "win_rate"]
        rows = [
            {
                "group": "reason",
                "key": r["reason"],
                "name": r["name"],
                "lost": r["count"],
                "amount_lost": r["amount"],
            }
            for r in payload["by_reason"]
        ]
        rows += [
            {
                "group": "competitor",
                "key": c["competitor"],
                "name": c["name"],
                "won": c["won"],
                "lost": c["lost"],
                "win_rate": c["win_rate"],
            }
            for c in payload["by_competitor"]
        ]
        rows += [
            {
                "group": "responsible",
                "key": p["person"],
                "name": p["name"],
                "won": p["won"],
                "lost": p["lost"],
                "amount_won": p["won_amount"],
                "amount_lost": p["lost_amount"],
                "win_rate": p["win_rate"],
            }
            for p in payload["by_responsible"]
        ]
        return columns, rows
    if name == "invoicing":
        from crmfiles.reports.invoicing import MEASURES

        total = {"month": "(total)", **payload["total"]}
        return ["month", *MEASURES, "orders", "invoices"], [*payload["months"], total]
    columns = ["person", "name", "email", "week", "moves"]
    rows = [
        {"person": p["person"], "name": p["name"], "email": p["email"], "week": w, "moves": n}
        for p in payload["people"]
        for w, n in p["weeks"].items()
    ]
    return columns, rows
