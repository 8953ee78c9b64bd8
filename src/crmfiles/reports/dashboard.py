"""Everything the HTML dashboard shows, as the JSON payloads of the reports that
compute it: the page formats these and computes nothing (one source of numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles.money import plain
from crmfiles.reports.common import Period, ReportedRevision
from crmfiles.runtime import Runtime


@dataclass
class Dashboard:
    label: str  # "work tree", or the --at argument and its commit
    today: str  # the day ages and overdue are measured from
    currency: str
    funnels: list[dict[str, Any]]  # one per kind with stages
    forecast: dict[str, Any]
    dropoffs: list[dict[str, Any]]  # one per kind with stages
    winloss: dict[str, Any]
    pipeline: dict[str, Any]
    overdue: list[dict[str, Any]]
    kind_names: dict[str, str] = field(default_factory=dict)
    stage_names: dict[str, str] = field(default_factory=dict)
    since: str | None = None  # --since, when asked
    moved: list[dict[str, Any]] = field(default_factory=list)


def dashboard(
    root: Path,
    at: ReportedRevision,
    *,
    kind: str | None = None,
    period: Period | None = None,
    since: str | None = None,
    runtime: Runtime | None = None,
) -> Dashboard:
    from crmfiles.history import load_summary
    from crmfiles.reports.dropoff import SUMMARY_COLUMNS, dropoff
    from crmfiles.reports.forecast import forecast
    from crmfiles.reports.funnel import funnel, staged_kinds
    from crmfiles.reports.people import pipeline_per_person
    from crmfiles.reports.winloss import winloss

    repo = at.repo
    kinds = [kind] if kind is not None else list(staged_kinds(repo))
    # drop-off reads the records' summaries: a part of the history cache
    summary = load_summary(root, at.commit, columns=SUMMARY_COLUMNS, runtime=runtime)
    funnels = [funnel(repo, k, period).as_json() for k in kinds]
    result = Dashboard(
        label=at.label,
        today=at.today.isoformat(),
        currency=repo.config.currency,
        funnels=funnels,
        forecast=forecast(repo, kind, period, at.today).as_json(),
        dropoffs=[dropoff(repo, summary, k, period).as_json() for k in kinds],
        winloss=winloss(repo, kind, period).as_json(),
        pipeline=pipeline_per_person(repo, kind).as_json(),
        overdue=overdue_tasks(at),
        kind_names={k: str(v.get("name") or k) for k, v in repo.catalog("kinds").items()},
        stage_names={k: str(v.get("name") or k) for k, v in repo.catalog("stages").items()},
    )
    if since is not None:
        result.since = since
        result.moved = moved(root, since, at.commit, runtime)
    return result


def overdue_tasks(at: ReportedRevision) -> list[dict[str, Any]]:
    """Everyone's open tasks due before the snapshot's day: ``crm tasks --all --overdue``."""
    from crmfiles.ops.tasks import TaskRow, select

    people = {k: str(v.get("name") or k) for k, v in at.repo.catalog("people").items()}
    tasks = [TaskRow(r.id, r.path, r.data) for r in at.repo.records("tasks")]
    out = []
    for task in select(tasks, me=None, today=at.today, everyone=True, overdue=True):
        data = task.data
        subject = data.get("subject")
        about = f"{subject.get('type')} {subject.get('id')}" if isinstance(subject, dict) else None
        assignee = str(data.get("assignee") or "")
        out.append(
            {
                "id": task.id,
                "due": task.due,
                "title": data.get("title"),
                "importance": data.get("importance"),
                "subject": about,
                "assignee": assignee,
                "assignee_name": people.get(assignee, assignee),
            }
        )
    return out


def moved(
    root: Path, since: str, head: str | None, runtime: Runtime | None
) -> list[dict[str, Any]]:
    """What moved from ``since`` to the snapshot: the rows of ``crm changes``."""
    from crmfiles.lint import lint
    from crmfiles.reports.changes import movements

    result = lint(root, base=since, head=head, runtime=runtime)
    return [
        {
            "id": m.id,
            "name": m.name,
            "from": m.origin,
            "to": m.target,
            "amount": plain(m.amount),
            "currency": m.currency,
            "by": m.authors,
        }
        for m in sorted(movements(result.steps), key=lambda m: m.id)
    ]
