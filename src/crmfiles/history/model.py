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
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from crmfiles.history.summary import Summary

CLOSED_STATUSES = ("won", "lost")


class Fields(NamedTuple):
    """What history keeps of one version of an opportunity (``amount`` as decimal text
    rounded to cents; ``lines`` only when the amount must come from them)."""

    kind: str | None
    stage: str | None
    status: str | None
    probability: int | None
    amount: str | None
    currency: str | None
    loss_reason: str | None
    closed: bool
    lines: Any = None


# What history stores is plain tuples, so that the cache loads in C without a Python
# call per object (tens of thousands of them); events and positions hand out Fields.
#
# A commit: (id, author name, author e-mail, committer date as ISO 8601 with offset,
# the same date in seconds since the epoch: cheap to compare).
Commit = tuple[str, str, str, str, int]
C_ID: Final = 0
C_NAME: Final = 1
C_EMAIL: Final = 2
C_DATE: Final = 3
C_TIME: Final = 4
# A version: (commit, depth, path, fields, merge) -- the index of the commit that wrote
# it, the chain position of the commit that brought it to the main line, the file, the
# fields as a plain tuple in Fields order (None: the record was deleted), and the
# index of the merge that brought a branch's commit (-1: none).
Version = tuple[int, int, str, "tuple[Any, ...] | None", int]
V_COMMIT: Final = 0
V_DEPTH: Final = 1
V_PATH: Final = 2
V_FIELDS: Final = 3
V_MERGE: Final = 4


_new = tuple.__new__


def as_fields(raw: tuple[Any, ...] | None) -> Fields | None:
    if raw is None or isinstance(raw, Fields):
        return raw
    return tuple.__new__(Fields, raw)


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
    # some records only, or without the files and the catalog: a view, never a base
    # to extend or to cache
    partial: bool = field(default=False, compare=False)
    # each record's summary as the cache holds it, of this history or of one it extends
    # (a row is kept only while its version count matches: see history.summary)
    summary: Summary | None = field(default=None, repr=False, compare=False)
    _dates: list[dt.datetime | None] = field(default_factory=list, repr=False, compare=False)

    def date(self, commit: int) -> dt.datetime:
        """A commit's date, parsed once."""
        if len(self._dates) < len(self.commits):
            self._dates.extend([None] * (len(self.commits) - len(self._dates)))
        found = self._dates[commit]
        if found is None:
            found = dt.datetime.fromisoformat(self.commits[commit][C_DATE])
            self._dates[commit] = found
        return found

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
            kept = [v for v in versions if v[V_DEPTH] <= depth]
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


class Event(NamedTuple):
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
    for commit_index, _, path, raw, merge in versions:
        commit = commits[commit_index]
        date = history.date(commit_index)
        after = as_fields(raw)
        change = _kind_of_change(previous, after)
        days = None
        moved = (
            previous is None
            or after is None
            or after[1] != previous[1]  # stage
            or after[2] != previous[2]  # status
        )
        if moved and previous is not None and entered is not None:
            days = max(0, (date.date() - entered.date()).days)
        if moved:
            entered = date if after is not None else None
        # tuple.__new__ builds the NamedTuple in C (a history has tens of thousands)
        event = (
            record_id,
            path,
            commit[C_ID],
            commits[merge][C_ID] if merge >= 0 else None,
            date,
            commit[C_NAME],
            commit[C_EMAIL],
            change,
            previous,
            after,
            days,
        )
        out.append(_new(Event, event))
        previous = after
    return out


def all_events(
    history: History, *, moves_only: bool = False, records: Iterable[str] | None = None
) -> list[Event]:
    """Every event of every opportunity (or of ``records``), oldest first (by date, then
    commit order)."""
    out: list[Event] = []
    for record_id in history.timelines if records is None else records:
        events = events_of(history, record_id)
        if moves_only:
            out.extend(e for e in events if e.change != "edited")
        else:
            out.extend(events)
    out.sort(key=_order)
    return out


def changed_between(history: History, start: dt.date | None, end: dt.date | None) -> set[str]:
    """The records with a version of a commit dated (in its own offset, as its events
    are) from ``start`` to ``end``, both included: those with an event in that window,
    whose events are all a report of the window needs to build."""
    dates = [history.date(i).date() for i in range(len(history.commits))]
    inside = [(start is None or d >= start) and (end is None or d <= end) for d in dates]
    return {
        rid
        for rid, versions in history.timelines.items()
        if any(inside[v[V_COMMIT]] for v in versions)
    }


def _order(event: Event) -> tuple[dt.datetime, str]:
    """By date, then id; one record's events keep their order (the sort is stable)."""
    return event.date, event.id


def recent_events(history: History, count: int, *, moves_only: bool = False) -> list[Event]:
    """The ``count`` newest events, newest first, built only for the records that have
    them (a cheap "what moved lately" on a large history)."""
    if count <= 0:
        return []
    commits = history.commits
    times = [
        (commits[v[V_COMMIT]][C_TIME], rid) for rid, versions in history.timelines.items()
        for v in versions
    ]  # fmt: skip
    wanted = count
    while True:
        newest = heapq.nlargest(wanted, times, key=itemgetter(0))
        complete = wanted >= len(times)
        # every version after the cutoff is among `newest`; older events of the same
        # records may leave out other records' events of that age
        cutoff = newest[-1][0] if newest and not complete else None
        events: list[Event] = []
        for rid in {rid for _, rid in newest}:
            events.extend(
                e
                for e in events_of(history, rid)
                if (not moves_only or e.change != "edited")
                and (cutoff is None or e.date.timestamp() > cutoff)
            )
        events.sort(key=_order)
        events.reverse()
        if len(events) >= count or complete:
            return events[:count]
        wanted *= 4


def positions(history: History) -> dict[str, Position]:
    """Each existing opportunity's stage and status at the end of history, and since
    when it has held them (the date it entered its current stage, or closed)."""
    out: dict[str, Position] = {}
    for record_id in history.timelines:
        where = position_of(history, record_id)
        if where is not None:
            out[record_id] = where
    return out


def position_of(history: History, record_id: str) -> Position | None:
    """One opportunity's :func:`positions` entry (None: no history, or deleted)."""
    versions = history.timelines.get(record_id)
    if not versions:
        return None
    last = versions[-1][V_FIELDS]
    if last is None:
        return None
    where = (last[1], last[2])  # stage, status
    since = versions[-1]
    for version in reversed(versions):
        raw = version[V_FIELDS]
        if raw is None or (raw[1], raw[2]) != where:
            break
        since = version
    fields = as_fields(last)
    assert fields is not None
    return Position(record_id, fields.stage, fields.status, history.date(since[V_COMMIT]), fields)


def stages_visited(history: History, record_id: str) -> list[str]:
    """Every stage an opportunity was in, in order (repeats when it came back)."""
    return [
        raw[1]
        for raw in (v[V_FIELDS] for v in history.timelines.get(record_id, ()))
        if raw is not None and raw[1] is not None
    ]


def first_seen(history: History, record_id: str) -> dt.datetime | None:
    """When an opportunity was first committed."""
    versions = history.timelines.get(record_id)
    return history.date(versions[0][V_COMMIT]) if versions else None


def amount(fields: Fields | None) -> Decimal | None:
    return Decimal(fields.amount) if fields is not None and fields.amount is not None else None


def record_id(path: str) -> str:
    """An opportunity's id: its file name without the extension."""
    name = path.rpartition("/")[2]
    return name.rpartition(".")[0] or name
