"""``crm history``: stage and status changes from git, of one opportunity or of all;
output only, the events come from :mod:`crmfiles.history`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

from crmfiles.cli.outputs import FORMATS, dump_json, write_csv
from crmfiles.config import find_root, use_color
from crmfiles.errors import CrmError


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
        dump_json(payload)
        return 0
    if form == "csv":
        rows = []
        for e in events:
            row = e.as_dict()
            found = approved.get(e.merge) if e.merge else None
            row["approved_by"] = "; ".join(found.approved_by) if found else None
            rows.append(row)
        write_csv(rows)
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
        write_csv([e.as_dict() for e in events])
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
