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
    # where files restored from the cache are read from when a rule needs their data
    source: Any = None
    # False: the set of record ids and partner roles are as in the cached run, so the
    # id-dependent rules need to look at the files parsed in this run only
    recheck_all: bool = True
    # path -> references of the last saved run, for files restored from the cache
    stored_refs: Callable[[], dict[str, tuple[str, list[Any]]]] | None = None
    cache: Any = None  # the warm-run cache (crmfiles.cache.Cache), when there is one
    cache_key: str | None = None
    ids_key: str | None = None
    _by_path: dict[str, LoadedFile] | None = field(default=None, repr=False)
    _stored: dict[str, tuple[str, list[Any]]] | None = field(default=None, repr=False)

    def by_path(self, path: str) -> LoadedFile | None:
        if self._by_path is None:
            self._by_path = {f.path: f for f in self.files}
        return self._by_path.get(path)

    def records(self, folder: str) -> Iterator[LoadedFile]:
        """The readable records of a folder, with their data (read now for files
        restored from the cache)."""
        files = [f for f in self.files if f.place.kind == "record" and f.place.name == folder]
        self.materialize(files)
        for f in files:
            if isinstance(f.data, dict):
                yield f

    def materialize(self, files: list[LoadedFile]) -> None:
        """Read and parse the files restored from the cache, which carry no data."""
        from crmfiles.records.yamlio import ParseError, parse

        missing = [f for f in files if not f.fresh and f.data is None]
        if not missing or self.source is None:
            return
        by_path = {f.path: f for f in missing}
        for raw in self.source.files_at(sorted(by_path)):
            f = by_path[raw.path]
            if raw.content is None:
                continue
            try:
                f.text = raw.content.decode("utf-8").removeprefix("\ufeff")
                f.data = parse(f.text)
            except (UnicodeDecodeError, ParseError):
                continue

    def data_for(self, path: str) -> Any:
        f = self.by_path(path)
        if f is None:
            return None
        self.materialize([f])
        return f.data

    def known(self, target: str) -> dict[str, Any] | None:
        """The ids of a reference target, or None when they cannot be known (a
        broken catalog: its own diagnostic says why, references to it stay quiet)."""
        if target in self.catalogs:
            return self.catalogs[target]
        if target in self.ids:
            return self.ids[target]
        return None

    def in_scope(self, f: LoadedFile) -> bool:
        """Whether an id-dependent rule must look at this file in this run."""
        return f.fresh or self.recheck_all

    def fact(self, f: LoadedFile, key: str) -> Any:
        if isinstance(f.data, dict):
            return f.data.get(key)
        return (f.facts or {}).get(key)

    def refs_of(self, f: LoadedFile) -> list[Any]:
        """A file's references: computed from its data, or from the cache."""
        if f.refs is None:
            if f.data is not None:
                from crmfiles.rules.files import schema_name
                from crmfiles.schema import extract_refs

                f.refs = extract_refs(schema_name(f.place), f.data)
            else:
                if self._stored is None:
                    self._stored = self.stored_refs() if self.stored_refs else {}
                blob, refs = self._stored.get(f.path, (None, None))
                if blob == f.blob and refs is not None:
                    f.refs = refs
                else:
                    self.materialize([f])
                    f.refs = [] if f.data is None else self.refs_of(f)
        return f.refs

    def record_facts(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """The facts of one record of this revision (the first file with that id)."""
        path = self.ids.get(folder, {}).get(record_id)
        found = self.by_path(path) if path is not None else None
        if found is None:
            return None
        if isinstance(found.data, dict):
            return found.data
        return found.facts

    def record_data(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """The data of one record of this revision (the first file with that id)."""
        path = self.ids.get(folder, {}).get(record_id)
        data = self.data_for(path) if path is not None else None
        return data if isinstance(data, dict) else None

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
