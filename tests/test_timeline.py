"""One record's activities on one timeline (crmfiles.reports.timeline): which records
belong to it, the order, and which changes from history count."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmfiles.history import Event, Fields
from crmfiles.records.store import Record
from crmfiles.reports.timeline import interactions_about, tasks_about, timeline

NAMES = {("people", "anna"): "Anna Becker", ("stages", "proposal"): "Proposal"}


def name(folder: str, ref: Any) -> str:
    return "" if ref is None else NAMES.get((folder, ref), str(ref))


def rec(folder: str, rid: str, **data: Any) -> Record:
    return Record(folder, rid, f"{folder}/{rid}.yaml", {"id": rid, **data})


def fields(stage: str, status: str = "in_progress", **more: Any) -> Fields:
    base = dict(kind="std", stage=stage, status=status, probability=50, amount="100.00",
                currency="EUR", loss_reason=None, closed=False)  # fmt: skip
    return Fields(**{**base, **more})


def event(change: str, day: int, before: Fields | None, after: Fields | None) -> Event:
    when = dt.datetime(2026, 11, day, 9, 30, tzinfo=dt.UTC)
    return Event("deal", "opportunities/deal.yaml", "c0ffee", None, when, "Thomas Richter",
                 "t@example.com", change, before, after, None)  # fmt: skip


INTERACTIONS = [
    rec("interactions", "call", type="call", at="2026-11-10T14:05:00+01:00", opportunity="deal",
        partner="acme", contacts=["eva"], responsible="anna", summary="Asked for\n a price"),
    rec("interactions", "note", type="note", at="2026-11-12", lead="lead-1", partner="acme"),
    rec("interactions", "other", type="email", at="2026-11-11", opportunity="other-deal"),
]  # fmt: skip
TASKS = [
    rec("tasks", "open", title="Send the offer", due="2026-11-30", assignee="anna",
        subject={"type": "opportunity", "id": "deal"}, started="2026-11-20T08:00"),
    rec("tasks", "done", title="Visit", completed=True, completed_on="2026-11-05",
        result="Three trucks", subject={"type": "opportunity", "id": "deal"}),
    rec("tasks", "partner-task", title="Credit check", subject={"type": "partner", "id": "acme"}),
    rec("tasks", "quote-task", title="Follow up", subject={"type": "quote", "id": "q-1"}),
]  # fmt: skip


def test_which_records_are_about_which_record() -> None:
    assert [t.id for t in tasks_about(TASKS, "opportunity", "deal")] == ["open", "done"]
    assert [t.id for t in tasks_about(TASKS, "partner", "acme")] == ["partner-task"]
    # a deal's documents' tasks are the deal's; another deal's quote's are not
    deal = tasks_about(TASKS, "opportunity", "deal", [("quote", "q-1"), ("order", "o-1")])
    assert [t.id for t in deal] == ["open", "done", "quote-task"]
    assert [t.id for t in tasks_about(TASKS, "opportunity", "deal", [("quote", "q-2")])] == [
        "open",
        "done",
    ]
    assert [i.id for i in interactions_about(INTERACTIONS, "opportunity", "deal")] == ["call"]
    assert [i.id for i in interactions_about(INTERACTIONS, "lead", "lead-1")] == ["note"]
    assert [i.id for i in interactions_about(INTERACTIONS, "partner", "acme")] == ["call", "note"]
    assert [i.id for i in interactions_about(INTERACTIONS, "contact", "eva")] == ["call"]
    assert interactions_about(INTERACTIONS, "quote", "deal") == []


def test_one_timeline_newest_first_stage_changes_but_not_edits() -> None:
    events = [
        event("created", 1, None, fields("qualify")),
        event("edited", 3, fields("qualify"), fields("qualify", probability=60)),
        event("moved", 15, fields("qualify"), fields("proposal")),
        event("lost", 25, fields("proposal"), fields("proposal", "lost", loss_reason="price")),
    ]
    tasks = tasks_about(TASKS, "opportunity", "deal")
    interactions = interactions_about(INTERACTIONS, "opportunity", "deal")
    got = [(a.when, a.label, a.who, a.summary) for a in timeline(interactions, tasks, events, name)]
    assert got == [
        ("2026-11-30", "☐ task", "Anna Becker", "Send the offer (due), started 2026-11-20 08:00"),
        ("2026-11-25 09:30", "✗ lost", "Thomas Richter", "Proposal → lost: price"),
        ("2026-11-15 09:30", "→ moved", "Thomas Richter", "qualify → Proposal"),
        ("2026-11-10 14:05", "☎ call", "Anna Becker", "Asked for a price"),
        ("2026-11-05", "☑ done", "", "Visit – Three trucks"),
        ("2026-11-01 09:30", "● created", "Thomas Richter", "created in qualify"),
    ]
    rows = timeline(interactions, tasks, events, name)
    assert [(a.folder, a.record_id) for a in rows if a.folder] == [
        ("tasks", "open"),
        ("interactions", "call"),
        ("tasks", "done"),
    ]
