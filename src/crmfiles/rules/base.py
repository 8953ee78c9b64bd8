"""What a rule sees: the revision's records and catalogs, and small typed accessors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crmfiles.config import Config
from crmfiles.diagnostics import Finding
from crmfiles.records import LoadedFile


@dataclass
class Context:
    config: Config
    files: list[LoadedFile]
    # catalog name -> entry id -> entry; absent when the catalog could not be read
    catalogs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    catalog_paths: dict[str, str] = field(default_factory=dict)
    # record folder -> id -> first path holding it
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    _by_path: dict[str, LoadedFile] | None = field(default=None, repr=False)

    def records(self, folder: str) -> Iterator[LoadedFile]:
        for f in self.files:
            if f.place.kind == "record" and f.place.name == folder and isinstance(f.data, dict):
                yield f

    def known(self, target: str) -> dict[str, Any] | None:
        """The ids of a reference target, or None when they cannot be known (a
        broken catalog: its own diagnostic says why, references to it stay quiet)."""
        if target in self.catalogs:
            return self.catalogs[target]
        if target in self.ids:
            return self.ids[target]
        return None

    def record_data(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """The data of one record of this revision (the first file with that id)."""
        path = self.ids.get(folder, {}).get(record_id)
        if path is None:
            return None
        if self._by_path is None:
            self._by_path = {f.path: f for f in self.files}
        found = self._by_path.get(path)
        return found.data if found is not None and isinstance(found.data, dict) else None

    def catalog_entry(self, name: str, entry_id: Any) -> dict[str, Any] | None:
        if not isinstance(entry_id, str):
            return None
        return (self.catalogs.get(name) or {}).get(entry_id)


RecordRule = Callable[[Context, LoadedFile], Iterator[Finding]]
GlobalRule = Callable[[Context], Iterator[Finding]]


def text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def finding(
    rule: str, f: LoadedFile, message: str, pointer: tuple[str | int, ...] = (), **kw: Any
) -> Finding:
    return Finding(
        rule=rule, path=f.path, message=message, pointer=pointer, record=f.place.id, **kw
    )
