"""Each record's summary: what a reader that needs one field per record takes from
history, without the versions.

For every record with a history: how many versions the summary was made from, the
day it entered its current stage and status (None: deleted at the end of history),
that stage and status, the day it was first committed, and the stages it was ever
in (each once, in the order first reached).  Days are proleptic ordinals
(:meth:`datetime.date.toordinal`) of the commit's date in its own offset, as
:attr:`Position.since.date() <crmfiles.history.model.Position>` gives it.

The cache keeps the summary beside the versions, a column a section (see
:mod:`crmfiles.history.store`), so ``days_in_stage`` loads two lists of 100,000 and
not the whole history.  When the cache is extended by new commits, only the records
whose versions grew are summarized again: versions are only ever appended, so a
summary made from as many versions as a record has is still its summary.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from crmfiles.history.model import V_COMMIT, V_FIELDS

if TYPE_CHECKING:
    from crmfiles.history.model import History

# count, since, stage, status, first, visited
Row = tuple[int, "int | None", "str | None", "str | None", int, "tuple[str, ...]"]
COLUMNS = ("counts", "since", "stage", "status", "first", "visited")
_AT = {name: i for i, name in enumerate(COLUMNS)}


class Summary:
    """Columns aligned with ``ids``: all of :data:`COLUMNS`, or those a reader asked
    the cache for."""

    __slots__ = ("_by_id", "_where", "columns", "ids")

    def __init__(self, ids: list[str], columns: Mapping[str, list[Any]]) -> None:
        self.ids = ids
        self.columns = dict(columns)
        self._where: dict[str, int] | None = None
        self._by_id: dict[str, dict[str, Any]] = {}

    def column(self, name: str) -> dict[str, Any]:
        """One column by record id (made once, and shared: the HTML report asks for
        each kind; not to be changed)."""
        found = self._by_id.get(name)
        if found is None:
            found = self._by_id[name] = dict(zip(self.ids, self.columns[name], strict=True))
        return found

    def days(self, today: dt.date) -> dict[str, int]:
        """Each existing record's days in its current stage (or since it closed):
        :meth:`Position.days <crmfiles.history.model.Position.days>` of each."""
        day = today.toordinal()
        return {
            rid: day - since if since < day else 0
            for rid, since in zip(self.ids, self.columns["since"], strict=True)
            if since is not None
        }

    def _index(self) -> dict[str, int]:
        """Each record's place in the columns."""
        if self._where is None:
            self._where = {rid: i for i, rid in enumerate(self.ids)}
        return self._where

    def rows(self) -> dict[str, Row]:
        """Every record's row (needs every column)."""
        columns = [self.columns[c] for c in COLUMNS]
        return dict(zip(self.ids, zip(*columns, strict=True), strict=True))

    def patched(self, rows: Mapping[str, Row | None]) -> Summary:
        """This summary with some records' rows replaced (None: the record has no
        history), in the columns it has."""
        names = [c for c in COLUMNS if c in self.columns]
        index = self._index()
        ids = list(self.ids)
        columns = {c: list(self.columns[c]) for c in names}
        gone: set[int] = set()
        for rid, row in rows.items():
            at = index.get(rid)
            if row is None:
                if at is not None:
                    gone.add(at)
                continue
            if at is None:
                ids.append(rid)
                for c in names:
                    columns[c].append(row[_AT[c]])
            else:
                for c in names:
                    columns[c][at] = row[_AT[c]]
        if gone:
            keep = [i for i in range(len(ids)) if i not in gone]
            ids = [ids[i] for i in keep]
            columns = {c: [values[i] for i in keep] for c, values in columns.items()}
        return Summary(ids, columns)


def row_of(history: History, record_id: str) -> Row | None:
    """One record's summary row, from its versions (None: it has none)."""
    versions = history.timelines.get(record_id)
    if not versions:
        return None
    seen: list[str] = []
    for version in versions:
        raw = version[V_FIELDS]
        if raw is not None and raw[1] is not None and raw[1] not in seen:
            seen.append(raw[1])
    first = history.date(versions[0][V_COMMIT]).toordinal()
    visited = tuple(map(_intern, seen))
    last = versions[-1][V_FIELDS]
    if last is None:
        return len(versions), None, None, None, first, visited
    where = (last[1], last[2])  # stage, status: as position_of finds since when
    since = versions[-1]
    for version in reversed(versions):
        raw = version[V_FIELDS]
        if raw is None or (raw[1], raw[2]) != where:
            break
        since = version
    entered = history.date(since[V_COMMIT]).toordinal()
    return len(versions), entered, _intern(where[0]), _intern(where[1]), first, visited


def _intern(text: Any) -> Any:
    """Stage and status names, one string each: marshal writes the rest as references."""
    return sys.intern(text) if type(text) is str else text


def summarize(history: History, previous: Summary | None = None) -> Summary:
    """Every record's summary; a record's row of ``previous`` (the summary of a history
    this one extends) is kept when it was made from as many versions as it has now."""
    timelines = history.timelines
    if previous is None or not all(c in previous.columns for c in COLUMNS):
        return _summarized(history)
    index, counts = previous._index(), previous.columns["counts"]
    changed: dict[str, Row | None] = {
        rid: row_of(history, rid)
        for rid, versions in timelines.items()
        if (at := index.get(rid)) is None or counts[at] != len(versions)
    }
    if len(index) + sum(rid not in index for rid in changed) != len(timelines):
        changed.update((rid, None) for rid in index.keys() - timelines.keys())
    return previous.patched(changed)


def _summarized(history: History) -> Summary:
    """Every record's summary, each made anew."""
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple for each stage path
    ids: list[str] = []
    rows: list[Row] = []
    for rid in history.timelines:
        row = row_of(history, rid)
        if row is None:
            continue
        visited = row[5]
        ids.append(rid)
        rows.append((*row[:5], shared.setdefault(visited, visited)))
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in COLUMNS]
    return Summary(ids, dict(zip(COLUMNS, columns, strict=True)))


def rows_of(history: History, record_ids: Iterable[str]) -> dict[str, Row | None]:
    """Some records' rows (a part of the cache replayed with new commits)."""
    return {rid: row_of(history, rid) for rid in record_ids}
