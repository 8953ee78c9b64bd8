"""Tasks from the command line: My tasks, and a task started or done.

My tasks are the open tasks whose assignee is me (crmfiles/people.py), by due date,
the most important first on a day; `crm task start` records when work began and
`crm task done` the result, the completion and its date, each in one commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.edit import update
from crmfiles.ops.result import OpResult
from crmfiles.runtime import Runtime

IMPORTANCE = {"high": 0, "normal": 1, "low": 2}


@dataclass(frozen=True)
class TaskRow:
    id: str
    path: str
    data: Mapping[str, Any]

    @property
    def done(self) -> bool:
        return self.data.get("completed") is True

    @property
    def due(self) -> str | None:
        due = self.data.get("due")
        return due[:10] if isinstance(due, str) else None

    def overdue(self, today: dt.date) -> bool:
        return not self.done and self.due is not None and self.due < today.isoformat()


def select(
    tasks: Iterable[TaskRow],
    *,
    me: str | None,
    today: dt.date,
    everyone: bool = False,
    overdue: bool = False,
    done: bool = False,
) -> list[TaskRow]:
    """The tasks a list shows: mine (or ``everyone``'s), open (or with ``done`` also the
    completed ones), only the overdue with ``overdue``; by due date (none last), the
    most important first on a day, then by id."""
    chosen = [
        t
        for t in tasks
        if (everyone or (me is not None and t.data.get("assignee") == me))
        and (done or not t.done)
        and (not overdue or t.overdue(today))
    ]
    return sorted(
        chosen,
        key=lambda t: (
            t.due is None,
            t.due or "",
            IMPORTANCE.get(str(t.data.get("importance")), 1),
            t.id,
        ),
    )


def start(
    root: Path,
    task_id: str,
    *,
    at: dt.datetime | None = None,
    commit: bool = True,
    branch: bool = False,
    runtime: Runtime | None = None,
) -> OpResult:
    """``crm task start``: when work on the task began (now, to the second, with the
    local offset, unless ``at``)."""
    moment = (at or dt.datetime.now().astimezone()).replace(microsecond=0)
    return update(
        root,
        task_id,
        {"started": moment.isoformat()},
        commit=commit,
        branch=branch,
        runtime=runtime,
        verb="task start",
        folders=("tasks",),
    )


def done(
    root: Path,
    task_id: str,
    *,
    result: str | None = None,
    on: dt.date | None = None,
    commit: bool = True,
    branch: bool = False,
    runtime: Runtime | None = None,
) -> OpResult:
    """``crm task done``: completed, on a date (today unless ``on``), with its result."""
    day = on or dt.date.today()
    if day > dt.date.today():
        raise CrmError(f"--on {day.isoformat()} is in the future", hint="a task is done by now")
    fields: dict[str, Any] = {"completed": True, "completed_on": day.isoformat()}
    if result:
        fields["result"] = result
    return update(
        root,
        task_id,
        fields,
        commit=commit,
        branch=branch,
        runtime=runtime,
        verb="task done",
        folders=("tasks",),
    )


def load_tasks(root: Path) -> list[TaskRow]:
    """Every task of the work tree (the tasks/ folder only, read as every record is)."""
    import os

    from crmfiles.records import classify
    from crmfiles.records.opener import Unreadable, read_regular
    from crmfiles.records.yamlio import ParseError, parse

    out: list[TaskRow] = []
    for folder, dirnames, filenames in os.walk(root / "tasks"):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(folder, name).relative_to(root).as_posix()
            place = classify(path)
            if place is None or place.kind != "record":
                continue
            try:
                data = parse(read_regular(root / path).decode("utf-8").removeprefix("\ufeff"))
            except (OSError, Unreadable, UnicodeDecodeError, ParseError):
                continue  # `crm validate` says why
            if isinstance(data, dict):
                out.append(TaskRow(place.id, path, data))
    return out
