"""The TUI's rows and reads that :mod:`crmfiles.tui.data` builds its snapshots of: an
opportunity's list row (its facts, its whole record read when a screen opens it) and
the work tree limited to the folders a first screen shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from crmfiles.folding import fold
from crmfiles.records import facts
from crmfiles.records.sources import RawFile, Source, WorkTree
from crmfiles.records.store import Record
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.reports.pipeline import Row, as_list


@dataclass
class ListRow:
    """One opportunity as the list, the kanban and the reports see it: its facts
    (:mod:`crmfiles.records.facts`, what a list, a search, a filter or a card reads),
    and the whole record, read from its file the first time a screen asks for it."""

    id: str
    row: Row
    root: Path | None = None  # where the record's file is (None: the record is whole)

    @cached_property
    def hay(self) -> str:
        """What incremental search looks in, case-folded (made at the first search)."""
        data = self.facts
        tags = " ".join(as_list(data.get("tags")))
        partner = self.row.names.get("partner_name", "")
        return fold(f"{data.get('name', '')} {self.id} {data.get('partner', '')} {partner} {tags}")

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
            whole = read_whole(self.root, record)
            if whole is not None:
                self.row.record = record = whole
        return record

    @property
    def data(self) -> dict[str, Any]:
        """The whole record's data (what a record screen shows)."""
        return self.record.data


def read_whole(root: Path, record: Record) -> Record | None:
    """A record read whole from its file; None when the file is no longer the one
    the facts were read from (a snapshot never changes: the facts stand until the
    reload that follows every change) or can no longer be read as a record."""
    try:
        text = (root / record.path).read_text("utf-8").removeprefix("\ufeff")
        data = parse(text)
    except (OSError, UnicodeDecodeError, ParseError):
        return None
    if not isinstance(data, dict) or facts.facts_of(record.folder, data) != record.data:
        return None
    return Record(record.folder, record.id, record.path, data, text)


class Folders(Source):
    """The work tree limited to some top-level folders (listed from git's index
    without reading, then read by the work tree itself)."""

    def __init__(self, root: Path, tops: tuple[str, ...]) -> None:
        super().__init__(root)
        self.base = WorkTree(root)
        self.tops = tops
        self.label = self.base.label

    def files(self) -> Iterator[RawFile]:
        wanted = [e.path for e in self.base.entries() if e.path.split("/")[0] in self.tops]
        yield from self.base.files_at(wanted)

    def files_at(self, paths: list[str]) -> Iterator[RawFile]:
        yield from self.base.files_at(paths)
