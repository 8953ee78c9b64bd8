"""``crm report``: output only; the figures come from :mod:`crmfiles.reports` (and,
for the activity and drop-off reports, :mod:`crmfiles.history`)."""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from crmfiles.cli.outputs import FORMATS, dump_json, write_csv
from crmfiles.config import find_root
from crmfiles.errors import CrmError

REPORTS = ("funnel", "forecast", "dropoff", "winloss", "activity", "invoicing")
SITE = "html"  # not a report of its own: every report above as a static web page


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
        dump_json(payload)
        return 0
    if args.format == "csv":
        if args.compare is not None:
            columns = ["month", "weighted", "compare_weighted", "difference"]
            write_csv(payload["compare"]["months"], columns)
            return 0
        columns, records = _csv_rows(args.report, payload)
        write_csv(records, columns)
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
