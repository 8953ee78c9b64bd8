"""One record's activities on one timeline, newest first, as Odoo's chatter shows them:
its interactions, its tasks and its documents' tasks (open ones at their due date,
done ones at the day they were done) and, for an opportunity, its stage and status
changes as git history has them (:func:`crmfiles.history.events_of`; the edits that
moved no stage stay in the History tab).

Textual-free: the TUI's Activities tab draws what :func:`timeline` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmfiles.records.store import Record

Names = Callable[[str, Any], str]  # (folder or catalog, reference) -> display name

# an interaction's ``type`` or a change's kind -> a one-cell symbol
ICONS = {
    "call": "☎",
    "meeting": "◉",
    "email": "✉",
    "visit": "⌂",
    "note": "✎",
    "demo": "▶",
    "task": "☐",
    "done": "☑",
    "created": "●",
    "moved": "→",
    "won": "★",
    "lost": "✗",
    "reopened": "↺",
    "status": "◆",
    "deleted": "✗",
}
# the field of an interaction that names a record of each subject type
INTERACTION_LINKS = {"opportunity": "opportunity", "lead": "lead", "partner": "partner"}

if TYPE_CHECKING:
    from crmfiles.history import Event


@dataclass(frozen=True)
class Activity:
    when: str  # "YYYY-MM-DD" or "YYYY-MM-DD HH:MM", as it sorts
    kind: str  # an interaction's type, "task", "done", or a history change
    who: str
    summary: str
    folder: str | None = None  # the record the row is (None: a change from history)
    record_id: str | None = None

    @property
    def label(self) -> str:
        return f"{ICONS.get(self.kind, '·')} {self.kind}"


def tasks_about(
    tasks: Iterable[Record],
    subject_type: str,
    record_id: str,
    also: Iterable[tuple[str, str]] = (),
) -> list[Record]:
    """The tasks whose subject is this record, or one of ``also`` ((type, id): a deal's
    quotes, orders and invoices, whose follow-ups are the deal's too)."""
    subjects = {(subject_type, record_id), *also}
    return [
        t
        for t in tasks
        if isinstance(s := t.data.get("subject"), dict)
        and (s.get("type"), str(s.get("id"))) in subjects
    ]


def interactions_about(
    interactions: Iterable[Record], subject_type: str, record_id: str
) -> list[Record]:
    """The interactions that name this record (a contact: among their contacts)."""
    if subject_type == "contact":
        return [
            i
            for i in interactions
            if isinstance(c := i.data.get("contacts"), list) and record_id in map(str, c)
        ]
    link = INTERACTION_LINKS.get(subject_type)
    return [i for i in interactions if link and str(i.data.get(link)) == record_id]


def timeline(
    interactions: Iterable[Record],
    tasks: Iterable[Record],
    events: Iterable[Event] = (),
    names: Names | None = None,
) -> list[Activity]:
    """Every activity, newest first (an open task due later comes before today's call,
    as planned activities top Odoo's chatter)."""
    name: Names = names or (lambda _folder, ref: "" if ref is None else str(ref))
    out = [_interaction(r, name) for r in interactions]
    out += [_task(r, name) for r in tasks]
    out += [_change(e, name) for e in events if e.change != "edited"]
    out.sort(key=lambda a: a.when, reverse=True)
    return out


def _when(value: Any) -> str:
    """A date or an ISO date-time as it reads and sorts: ``2026-11-16 14:05``."""
    text = "" if value is None else str(value)
    return text[:16].replace("T", " ") if len(text) > 10 else text


def _one_line(*parts: Any) -> str:
    text = " – ".join(str(p) for p in parts if p not in (None, ""))
    return " ".join(text.split())


def _interaction(record: Record, name: Names) -> Activity:
    data = record.data
    kind = str(data.get("type") or "note")
    summary = _one_line(data.get("subject"), data.get("summary"))
    if data.get("direction") == "inbound":
        summary = f"(in) {summary}"
    return Activity(
        _when(data.get("at")),
        kind,
        name("people", data.get("responsible")),
        summary or record.id,
        "interactions",
        record.id,
    )


def _task(record: Record, name: Names) -> Activity:
    data = record.data
    title = data.get("title") or record.id
    if data.get("completed"):
        when = data.get("completed_on") or data.get("due") or data.get("created")
        return Activity(
            _when(when),
            "done",
            name("people", data.get("assignee")),
            _one_line(title, data.get("result")),
            "tasks",
            record.id,
        )
    summary = f"{title} (due)" if data.get("due") else str(title)
    if data.get("started"):
        summary += f", started {_when(data['started'])}"
    return Activity(
        _when(data.get("due") or data.get("created")),
        "task",
        name("people", data.get("assignee")),
        summary,
        "tasks",
        record.id,
    )


def _change(event: Event, name: Names) -> Activity:
    before, after = event.before, event.after

    def where(fields: Any) -> str:
        if fields is None:
            return ""
        if fields.status in ("won", "lost") or not fields.stage:
            return str(fields.status or "")
        return name("stages", fields.stage)

    if event.change == "created":
        summary = f"created in {where(after)}"
    elif event.change == "lost" and after is not None and after.loss_reason:
        summary = f"{where(before)} → lost: {name('loss-reasons', after.loss_reason)}"
    else:
        summary = f"{where(before)} → {where(after)}"
    return Activity(event.date.strftime("%Y-%m-%d %H:%M"), event.change, event.author, summary)
