"""``crm tasks`` (My tasks) and ``crm task start|done ID``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from crmfiles.config import find_root, parse_config, read_config_file
from crmfiles.errors import CrmError


def add_tasks_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--mine", action="store_true", help="my tasks (the default)")
    who.add_argument("--all", action="store_true", help="everyone's tasks")
    parser.add_argument("--overdue", action="store_true", help="only those past their due date")
    parser.add_argument("--done", action="store_true", help="completed tasks too")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    from crmfiles.cli.writes import add_common

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="record that work on the task began (now)")
    start.add_argument("id", metavar="ID", help="the task")
    add_common(start)
    done = sub.add_parser("done", help="the task is done: its result, completion and date")
    done.add_argument("id", metavar="ID", help="the task")
    done.add_argument("--result", metavar="TEXT", help="what came of it")
    done.add_argument("--on", metavar="DATE", help="the day it was done (default: today)")
    add_common(done)


def run_task(args: argparse.Namespace) -> int:
    from crmfiles.cli.writes import commit_flags, perform
    from crmfiles.ops.registry import OPERATIONS

    start, done = OPERATIONS["task_start"], OPERATIONS["task_done"]

    if args.action == "start":
        flags = commit_flags(args)
        return perform(
            args,
            lambda root: start(
                root,
                args.id,
                commit=flags["commit"],
                branch=flags["branch"],
                runtime=flags["runtime"],
            ),
        )
    on = None
    if args.on:
        try:
            on = dt.date.fromisoformat(args.on)
        except ValueError:
            raise CrmError(f"--on {args.on!r} is not a date", hint="write YYYY-MM-DD") from None
    return perform(
        args, lambda root: done(root, args.id, result=args.result, on=on, **commit_flags(args))
    )


def run_tasks(args: argparse.Namespace) -> int:
    from crmfiles.lint import _author_email
    from crmfiles.ops.tasks import load_tasks, select
    from crmfiles.people import read_people, who_am_i

    root = find_root(explicit=args.repo)
    config = parse_config(read_config_file(root))
    people = read_people(root)
    me = who_am_i(people, _author_email(root), config.me)
    if not args.all and me.id is None:
        raise CrmError(
            f"git's e-mail {me.email or '(none)'} is nobody in catalogs/people.yaml, so "
            "there are no tasks of yours to show",
            hint="`crm whoami` says more; `crm tasks --all` shows everyone's",
        )
    today = dt.date.today()
    rows = select(
        load_tasks(root),
        me=me.id,
        today=today,
        everyone=args.all,
        overdue=args.overdue,
        done=args.done,
    )
    records = [_row(t, today) for t in rows]
    if args.format == "json":
        payload = {"version": 1, "me": me.id, "tasks": records}
        json.dump(payload, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if args.format == "csv":
        from crmfiles import csvsafe

        columns = ["id", "due", "importance", "title", "subject", "assignee", "state"]
        writer = csvsafe.Writer(sys.stdout)
        writer.writerow(columns)
        for record in records:
            writer.writerow([record.get(c) for c in columns])
        return 0
    whose = "everyone's" if args.all else f"{me.id}'s"
    what = "overdue " if args.overdue else ""
    if not records:
        sys.stdout.write(f"no {what}open tasks ({whose})\n")
        return 0
    for record in records:
        due = record["due"] or "no date"
        flag = "  OVERDUE" if record["state"] == "overdue" else ""
        done = "  done" if record["state"] == "done" else ""
        who = f"  [{record['assignee']}]" if args.all else ""
        sys.stdout.write(
            f"{due:<10}  {record['importance'] or 'normal':<6}  {record['id']}{who}{flag}{done}\n"
        )
        sys.stdout.write(f"            {record['title']}")
        sys.stdout.write(f"  (about {record['subject']})\n" if record["subject"] else "\n")
        for line in str(record.get("instructions") or "").strip().splitlines():
            sys.stdout.write(f"            | {line}\n")
    sys.stdout.write(f"{len(records)} {what}task{'s' if len(records) != 1 else ''} ({whose})\n")
    return 0


def _row(task: Any, today: dt.date) -> dict[str, Any]:
    data = task.data
    subject = data.get("subject")
    about = f"{subject.get('type')} {subject.get('id')}" if isinstance(subject, dict) else None
    state = "done" if task.done else ("overdue" if task.overdue(today) else "open")
    return {
        "id": task.id,
        "path": task.path,
        "due": task.due,
        "importance": data.get("importance"),
        "title": data.get("title"),
        "subject": about,
        "assignee": data.get("assignee"),
        "instructions": data.get("instructions"),
        "started": data.get("started"),
        "state": state,
    }
