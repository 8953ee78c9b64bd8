"""What history holds, and the events a person reads from it.

A :class:`History` is, for every opportunity id, the list of its versions along the
first-parent chain of HEAD (the main line as this branch saw it): each version is the
state of the tracked fields after one commit that changed them.  A change merged from
a branch is credited to the branch commit that made it (the person who moved the deal,
on the day they did), and a branch that moved a deal several times gives one version
per move.  Events compare each version with the one before; they are derived, never
stored, so the cache holds only versions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from crmfiles.history.fields import Fields

CLOSED_STATUSES = ("won", "lost")


class Commit(NamedTuple):
    id: str
    name: str
    email: str
    date: str  # committer date, ISO 8601 with the committer's UTC offset


class Version(NamedTuple):
    commit: int  # index into History.commits: the commit that wrote this version
    depth: int  # position on the first-parent chain of the commit that brought it there
    path: str
    fields: Fields | None  # None: the record was deleted
    merge: int = -1  # index of the merge commit that brought a branch's change, or -1


@dataclass
class History:
    head: str | None = None
    depth: int = 0  # length of the first-parent chain up to head
    chain: bytes = b""  # binary ids of the chain, oldest first, 20 bytes each
    commits: list[Commit] = field(default_factory=list)
    timelines: dict[str, list[Version]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # opportunity path -> blob at head
    products: dict[str, Any] = field(default_factory=dict)  # product catalog at head
    read_commits: int = 0  # commits this load read from git (0: all from the cache)

    def depth_of(self, commit: str) -> int | None:
        """The chain position of ``commit``, or None when it is not on the chain."""
        try:
            raw = bytes.fromhex(commit)
        except ValueError:
            return None
        at = self.chain.find(raw)
        while at >= 0 and at % 20:
            at = self.chain.find(raw, at + 1)
        return None if at < 0 else at // 20 + 1

    def until(self, depth: int) -> History:
        """History as it stood at chain position ``depth`` (an earlier commit)."""
        timelines = {}
        for record_id, versions in self.timelines.items():
            kept = [v for v in versions if v.depth <= depth]
            if kept:
                timelines[record_id] = kept
        return History(
            self.chain[(depth - 1) * 20 : depth * 20].hex() if depth else None,
            depth,
            self.chain[: depth * 20],
            self.commits,
            timelines,
            {},
            {},
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One change of an opportunity's tracked fields, read from one commit."""

    id: str
    path: str
    commit: str
    merge: str | None  # the merge that brought a branch's commit to the main line
    date: dt.datetime
    author: str
    email: str
    change: str  # created | moved | won | lost | reopened | status | edited | deleted
    before: Fields | None
    after: Fields | None
    days_in_previous: int | None  # days in the stage (or status) this event left

    @property
    def is_move(self) -> bool:
        """A change of stage or status (creation and deletion included)."""
        return self.change != "edited"

    @property
    def source(self) -> str:
        return position_label(self.before)

    @property
    def target(self) -> str:
        return position_label(self.after)

    @property
    def state(self) -> Fields | None:
        return self.after or self.before

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of an event (docs/reports.md)."""
        before, after = self.before, self.after
        now = after or before
        return {
            "id": self.id,
            "path": self.path,
            "commit": self.commit,
            "merge": self.merge,
            "date": self.date.isoformat(),
            "author": self.author,
            "email": self.email,
            "change": self.change,
            "from": self.source or None,
            "to": self.target or None,
            "from_stage": before.stage if before else None,
            "to_stage": after.stage if after else None,
            "from_status": before.status if before else None,
            "to_status": after.status if after else None,
            "loss_reason": after.loss_reason if after and after.status == "lost" else None,
            "probability": after.probability if after else None,
            "previous_probability": before.probability if before else None,
            "amount": after.amount if after else None,
            "previous_amount": before.amount if before else None,
            "currency": now.currency if now else None,
            "days_in_previous": self.days_in_previous,
        }


@dataclass(frozen=True, slots=True)
class Position:
    """Where an opportunity stands at the end of its history, and since when."""

    id: str
    stage: str | None
    status: str | None
    since: dt.datetime
    fields: Fields

    def days(self, today: dt.date) -> int:
        return max(0, (today - self.since.date()).days)


def position_label(fields: Fields | None) -> str:
    """A stage, or won / lost (with the reason) once closed."""
    if fields is None:
        return ""
    if fields.status == "lost":
        return f"lost ({fields.loss_reason})" if fields.loss_reason else "lost"
    if fields.status == "won":
        return "won"
    return fields.stage or fields.status or ""


def _position(fields: Fields) -> tuple[str | None, str | None]:
    return fields.stage, fields.status


def _kind_of_change(before: Fields | None, after: Fields | None) -> str:
    if before is None:
        return "created"
    if after is None:
        return "deleted"
    if after.status != before.status:
        if after.status in CLOSED_STATUSES:
            return str(after.status)
        if before.status in CLOSED_STATUSES:
            return "reopened"
        if after.stage == before.stage:
            return "status"
    if after.stage != before.stage:
        return "moved"
    return "edited"


def events_of(history: History, record_id: str) -> list[Event]:
    """Every change of one opportunity, oldest first."""
    versions = history.timelines.get(record_id, [])
    commits = history.commits
    out: list[Event] = []
    previous: Fields | None = None
    entered: dt.datetime | None = None
    for version in versions:
        commit = commits[version.commit]
        date = dt.datetime.fromisoformat(commit.date)
        after = version.fields
        change = _kind_of_change(previous, after)
        days = None
        moved = previous is None or after is None or _position(after) != _position(previous)
        if moved and previous is not None and entered is not None:
            days = max(0, (date.date() - entered.date()).days)
        if moved:
            entered = date if after is not None else None
        out.append(
            Event(
                record_id,
                version.path,
                commit.id,
                commits[version.merge].id if version.merge >= 0 else None,
                date,
                commit.name,
                commit.email,
                change,
                previous,
                after,
                days,
            )
        )
        previous = after
    return out


def all_events(history: History, *, moves_only: bool = False) -> list[Event]:
    """Every event of every opportunity, oldest first (by date, then commit order)."""
    out: list[Event] = []
    for record_id in history.timelines:
        events = events_of(history, record_id)
        out.extend(e for e in events if e.is_move) if moves_only else out.extend(events)
    out.sort(key=lambda e: e.date)
    return out


def positions(history: History) -> dict[str, Position]:
    """Each existing opportunity's stage and status at the end of history, and since
    when it has held them (the date it entered its current stage, or closed)."""
    out: dict[str, Position] = {}
    commits = history.commits
    for record_id, versions in history.timelines.items():
        last = versions[-1].fields
        if last is None:
            continue
        where = _position(last)
        since = versions[-1]
        for version in reversed(versions):
            if version.fields is None or _position(version.fields) != where:
                break
            since = version
        date = dt.datetime.fromisoformat(commits[since.commit].date)
        out[record_id] = Position(record_id, last.stage, last.status, date, last)
    return out


def amount(fields: Fields | None) -> Decimal | None:
    return Decimal(fields.amount) if fields is not None and fields.amount is not None else None
