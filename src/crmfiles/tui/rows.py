"""The TUI's rows and reads that :mod:`crmfiles.tui.data` builds its snapshots of: an
opportunity's list row (its facts, its whole record read when a screen opens it) and
the work tree limited to the folders a first screen shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles.folding import fold
from crmfiles.records import facts
from crmfiles.records.facts_table import FactTable
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.store import Record
from crmfiles.records.worktree import WorkTree
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.reports.pipeline import Row, as_list


@dataclass(slots=True)
class ListRow:
    """One opportunity as the list, the kanban and the reports see it: its facts
    (:mod:`crmfiles.records.facts`, what a list, a search, a filter or a card reads),
    and the whole record, read from its file the first time a screen asks for it."""

    id: str
    row: Row
    root: Path | None = None  # where the record's file is (None: the record is whole)
    # the facts the row was made from, all of them (the row keeps those a list reads)
    table: FactTable | None = field(default=None, repr=False)

    _hay: str | None = field(default=None, repr=False)
    # its amounts packed for summing (:mod:`crmfiles.tui.totals`), and in which lanes
    _packed: tuple[Any, int] | None = field(default=None, repr=False)

    @property
    def hay(self) -> str:
        """What incremental search looks in, case-folded (made at the first search,
        or ahead of it for many rows at once by :func:`make_search_texts`)."""
        if self._hay is None:
            make_search_texts([self])
        assert self._hay is not None
        return self._hay

    @property
    def facts(self) -> dict[str, Any]:
        return self.row.record.data

    @property
    def path(self) -> str:
        return self.row.record.path

    @property
    def record(self) -> Record:
        """The whole record (its one file parsed the first time)."""
        record = self.row.record
        if not record.whole and self.root is not None:
            at = self.table.where(self.id) if self.table is not None else None
            made_of = self.table.row(at) if self.table is not None and at is not None else None
            whole = read_whole(self.root, record, made_of)
            if whole is not None:
                self.row.record = record = whole
        return record

    @property
    def data(self) -> dict[str, Any]:
        """The whole record's data (what a record screen shows)."""
        return self.record.data


def make_search_texts(rows: Sequence[ListRow]) -> None:
    """Each row's search text: its name, id, partner (id and name) and tags, folded.
    A partner's part and a set of tags are folded once for all the rows that share
    them (100,000 deals have a few thousand partners and tag sets): the list's rows
    get their text in a fraction of the time one fold each would take."""
    partners: dict[tuple[str, str], str] = {}
    tag_sets: dict[tuple[Any, ...], str] = {}
    for lr in rows:
        if lr._hay is not None:
            continue
        data = lr.facts
        partner = (str(data.get("partner") or ""), lr.row.names.get("partner_name", ""))
        partner_text = partners.get(partner)
        if partner_text is None:
            partner_text = partners[partner] = fold(" ".join(partner))
        tags = data.get("tags")
        key = tuple(tags) if isinstance(tags, list) else (tags,)
        try:
            tag_text, keep = tag_sets.get(key), True
        except TypeError:  # a tag that is itself a list or a mapping: not kept
            tag_text, keep = None, False
        if tag_text is None:
            tag_text = fold(" ".join(as_list(tags)))
            if keep:
                tag_sets[key] = tag_text
        own = fold(f"{data.get('name', '')} {lr.id}")
        lr._hay = f"{own} {partner_text} {tag_text}"


def read_whole(root: Path, record: Record, made_of: dict[str, Any] | None = None) -> Record | None:
    """A record read whole from its file; None when the file is no longer the one
    the facts were read from (``made_of``, else the record's data: a snapshot never
    changes, the facts stand until the reload that follows every change) or can no
    longer be read as a record."""
    try:
        text = (root / record.path).read_text("utf-8").removeprefix("\ufeff")
        data = parse(text)
    except (OSError, UnicodeDecodeError, ParseError):
        return None
    expected = record.data if made_of is None else made_of
    if not isinstance(data, dict) or facts.facts_of(record.folder, data) != expected:
        return None
    return Record(record.folder, record.id, record.path, data, text)


class Folders(Source):
    """The work tree limited to some top-level folders (listed from git's index
    without reading, then read by the work tree itself).

    ``pause`` is called before each file: the TUI reads these folders on a thread
    while the list is in use, and a thread that parses holds the interpreter half the
    time the screen's thread works (a search at 100,000 rows took twice as long); the
    screen makes the reader wait while it works on a key (:class:`Turns`)."""

    def __init__(
        self, root: Path, tops: tuple[str, ...], pause: Callable[[], object] | None = None
    ) -> None:
        super().__init__(root)
        self.base = WorkTree(root)
        self.tops = tops
        self.label = self.base.label
        self.pause = pause

    def files(self) -> Iterator[RawFile]:
        wanted = [e.path for e in self.base.entries() if e.path.split("/")[0] in self.tops]
        yield from self.files_at(wanted)

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        for raw in self.base.files_at(paths):
            yield raw
            if self.pause is not None:
                self.pause()


class Turns:
    """The screen's thread first: while it works on something (:meth:`working`, for
    at most ``seconds``), a reader on another thread that calls :meth:`wait` between
    files waits until it is :meth:`done`; a turn never given back ends by itself."""

    def __init__(self) -> None:
        self._free = threading.Event()
        self._free.set()
        self._until = 0.0

    def working(self, seconds: float = 1.0) -> None:
        self._until = time.monotonic() + seconds
        self._free.clear()

    def done(self) -> None:
        self._free.set()

    def wait(self) -> None:
        left = self._until - time.monotonic()
        if left > 0:
            self._free.wait(left)


def mapping(value: Any) -> dict[str, Any]:
    """A nested mapping of a record (``insight``, ``address``), or an empty one."""
    return value if isinstance(value, dict) else {}


def listing(value: Any) -> list[Any]:
    """A nested list of a record (``lines``, ``contacts``), or an empty one."""
    return value if isinstance(value, list) else []
