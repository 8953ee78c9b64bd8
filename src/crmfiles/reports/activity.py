"""Activity: stage and status changes per person per ISO week — from history.

A person is the commit author, matched to ``catalogs/people.yaml`` by e-mail (an
author git knows by an e-mail no one lists stays an e-mail).  Without ``--from``,
the last twelve weeks up to ``--to`` (or today, or the ``--at`` date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmfiles.history import History, all_events
from crmfiles.history.model import changed_between
from crmfiles.records.store import Repository
from crmfiles.reports.common import Period

DEFAULT_WEEKS = 12
MOVES = ("moved", "won", "lost", "reopened", "status")


@dataclass
class PersonActivity:
    person: str | None  # id in catalogs/people.yaml
    name: str
    email: str
    weeks: dict[str, int] = field(default_factory=dict)  # ISO week -> stage changes
    changes: dict[str, int] = field(default_factory=dict)  # created, moved, won, ... -> n

    @property
    def moves(self) -> int:
        return sum(self.weeks.values())


@dataclass
class Activity:
    period: Period
    weeks: list[str]
    people: list[PersonActivity]

    def as_json(self) -> dict[str, Any]:
        total: dict[str, int] = {w: 0 for w in self.weeks}
        for p in self.people:
            for week, n in p.weeks.items():
                total[week] += n
        return {
            "report": "activity",
            "weeks": self.weeks,
            "people": [
                {
                    "person": p.person,
                    "name": p.name,
                    "email": p.email,
                    "weeks": {w: p.weeks.get(w, 0) for w in self.weeks},
                    "moves": p.moves,
                    **{c: p.changes.get(c, 0) for c in ("created", *MOVES)},
                }
                for p in self.people
            ],
            "total": {"weeks": total, "moves": sum(total.values())},
            "period": self.period.as_dict(),
        }


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def activity(
    repo: Repository, history: History, period: Period | None = None, today: dt.date | None = None
) -> Activity:
    period = period or Period()
    end = period.end or today or dt.date.today()
    start = period.start or (end - dt.timedelta(days=end.weekday()) - dt.timedelta(weeks=11))
    period = Period(start, end)
    weeks: list[str] = []
    day = start - dt.timedelta(days=start.weekday())
    while day <= end:
        weeks.append(iso_week(day))
        day += dt.timedelta(weeks=1)
    by_email: dict[str, tuple[str, str]] = {}
    for pid, person in repo.catalog("people").items():
        for email in person.get("emails") or []:
            by_email[str(email).lower()] = (pid, str(person.get("name") or pid))
    people: dict[str, PersonActivity] = {}
    # the events of the records changed in the window only (at 100,000 records, most
    # changed before it): the same events of the window, in the same order
    changed = changed_between(history, period.start, period.end)
    for event in all_events(history, moves_only=True, records=changed):
        if event.change == "deleted" or event.date.date() not in period:
            continue
        known = by_email.get(event.email.lower())
        key = known[0] if known else event.email.lower()
        who = people.get(key)
        if who is None:
            who = people[key] = PersonActivity(
                known[0] if known else None,
                known[1] if known else event.author,
                event.email,
            )
        who.changes[event.change] = who.changes.get(event.change, 0) + 1
        if event.change in MOVES:
            week = iso_week(event.date.date())
            who.weeks[week] = who.weeks.get(week, 0) + 1
    ordered = sorted(people.values(), key=lambda p: (-p.moves, p.name.casefold()))
    return Activity(period, weeks, ordered)
