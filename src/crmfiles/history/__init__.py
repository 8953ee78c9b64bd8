"""Stage history from git: every opportunity's stage, status, probability and amount
across commits, read from the files themselves (hand edits count), with who and when.

    history = load_history(root)          # cached; only new commits are read
    events_of(history, "acme-forklifts")  # every change of one record, oldest first
    all_events(history, moves_only=True)  # every stage or status change
    days_in_stage(root)                   # id -> days in its current stage
    load_summary(root)                    # each record's summary: a part of the cache
    newest_events(root, 20)               # `crm history -n 20`, from a part of the cache
    load_record(root, "acme-forklifts")   # `crm history ID`: the history of one record

The TUI and the reports use these pure functions of a :class:`History`; see
``docs/reports.md`` for the JSON shapes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from crmfiles.history.build import (
    load_history,
    load_record,
    load_summary,
    newest_events,
    record_id,
)
from crmfiles.history.model import (
    Commit,
    Event,
    Fields,
    History,
    Position,
    Version,
    all_events,
    events_of,
    first_seen,
    position_label,
    position_of,
    positions,
    recent_events,
    stages_visited,
)
from crmfiles.history.summary import Summary, summarize
from crmfiles.runtime import Runtime


def days_in_stage(
    root: Path, today: dt.date | None = None, runtime: Runtime | None = None
) -> dict[str, int]:
    """Each opportunity's days in its current stage (or since it closed), as of HEAD:
    ``Position.days`` of each of :func:`positions`.

    Cheap once the cache is warm: one ``git rev-parse`` and two columns of the cache's
    summary (:func:`load_summary`).  A record moved in the work tree but not committed
    still shows its committed stage's days; compare :func:`positions` with the record
    to tell."""
    summary = load_summary(root, columns=("since",), runtime=runtime)
    return summary.days(today or dt.date.today())


__all__ = [
    "Commit",
    "Event",
    "Fields",
    "History",
    "Position",
    "Summary",
    "Version",
    "all_events",
    "days_in_stage",
    "events_of",
    "first_seen",
    "load_history",
    "load_record",
    "load_summary",
    "newest_events",
    "position_label",
    "position_of",
    "positions",
    "recent_events",
    "record_id",
    "stages_visited",
    "summarize",
]
