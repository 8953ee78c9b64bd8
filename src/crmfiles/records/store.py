"""Read access to a CRM repository for commands that show or change records.

Unlike the checker, this parses only what a command asks for (a folder, the
catalogs) and never validates; a file that cannot be read is skipped here and
reported by ``crm validate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from crmfiles import notices
from crmfiles.config import Config, find_root, parse_config
from crmfiles.errors import CrmError
from crmfiles.records import CATALOG_DIR, RECORD_FOLDERS, Record, classify
from crmfiles.records.facts import kept
from crmfiles.records.facts_cache import read_tables
from crmfiles.records.facts_table import FactTable
from crmfiles.records.sources import RawFile, Source, WorkTree
from crmfiles.records.yamlio import ParseError, parse


class Repository:
    """The records of one revision, read a folder at a time as they are asked for
    (when the source can; otherwise everything at the first question)."""

    def __init__(self, root: Path, source: Source | None = None) -> None:
        self.root = root
        self.source = source or WorkTree(root)
        self._folders: dict[str, dict[str, Record]] = {}
        self._catalog_data: dict[str, list[dict[str, Any]]] | None = None
        self._facts: dict[str, FactTable] | None = None

    @classmethod
    def find(cls, explicit: str | None = None) -> Repository:
        return cls(find_root(explicit=explicit))

    @cached_property
    def config(self) -> Config:
        return parse_config(self.source.read_config())

    def _folder(self, folder: str) -> dict[str, Record]:
        if folder not in self._folders:
            self.config  # noqa: B018 - a repository whose crm.yaml cannot be read is none
            if self.source.by_folder:
                self._folders[folder] = {}
                self._read(self.source.folder_files(folder))
            else:
                self._read_everything()
        return self._folders[folder]

    def _catalogs(self) -> dict[str, list[dict[str, Any]]]:
        if self._catalog_data is None:
            self.config  # noqa: B018
            if self.source.by_folder:
                self._catalog_data = {}
                self._read(self.source.catalog_files())
            else:
                self._read_everything()
        assert self._catalog_data is not None
        return self._catalog_data

    def _read_everything(self) -> None:
        self._folders = {folder: {} for folder in RECORD_FOLDERS}
        self._catalog_data = {}
        self._read(self.source.files())

    def _read(self, files: Iterable[RawFile]) -> None:
        for raw in files:
            place = classify(raw.path)
            if place is None:
                continue
            if raw.content is None:
                if place.kind == "config":
                    continue  # its own error, from self.config
                why = raw.refusal or "cannot be read"
                notices.warn(f"{raw.path}: {why}; left out of this answer")
                continue
            try:
                text = raw.content.decode("utf-8").removeprefix("\ufeff")
                data = parse(text)
            except (UnicodeDecodeError, ParseError):
                continue
            if place.kind == "catalog" and isinstance(data, list):
                assert self._catalog_data is not None
                self._catalog_data[place.name] = [e for e in data if isinstance(e, dict)]
            elif place.kind == "record" and isinstance(data, dict):
                self._folders.setdefault(place.name, {}).setdefault(
                    place.id, Record(place.name, place.id, raw.path, data, text)
                )

    def records(self, folder: str) -> list[Record]:
        return sorted(self._folder(folder).values(), key=lambda r: r.path)

    def facts(self, folder: str) -> list[Record]:
        """One folder's records as facts (:mod:`crmfiles.records.facts`: what lists and
        reports read), from the warm cache, in path order; whole records where the
        folder was read whole already, or where its facts are not kept."""
        if folder in self._folders or not kept(folder):
            return self.records(folder)
        return self.fact_table(folder).records()

    def fact_table(self, folder: str) -> FactTable:
        """:meth:`facts` as columns (:class:`~crmfiles.records.facts_table.FactTable`):
        what a reader that aggregates a few fields of every record reads."""
        if folder in self._folders or not kept(folder):
            return FactTable.of_records(folder, self.records(folder))
        if self._facts is None:
            self.config  # noqa: B018 - a repository whose crm.yaml cannot be read is none
            self._facts = read_tables(self.source)
        return self._facts[folder]

    def by_id(self, folder: str) -> dict[str, Record]:
        """One folder's records by id."""
        return self._folder(folder)

    def catalog(self, name: str) -> dict[str, dict[str, Any]]:
        return {str(e.get("id")): e for e in self._catalogs().get(name, [])}

    def get(self, record_id: str, folder: str | None = None) -> Record:
        """A record by id (``folder/id`` or a bare id searched in every folder)."""
        if "/" in record_id and folder is None:
            folder, _, record_id = record_id.partition("/")
        folders = [folder] if folder else list(RECORD_FOLDERS)
        if folder and folder not in RECORD_FOLDERS:
            raise CrmError(
                f"unknown record type '{folder}'", hint=f"one of: {', '.join(RECORD_FOLDERS)}"
            )
        found = [self._folder(f)[record_id] for f in folders if record_id in self._folder(f)]
        if not found:
            raise CrmError(
                f"no record with id '{record_id}'" + (f" in {folder}/" if folder else ""),
                hint="`crm list opportunities` shows the ids",
            )
        if len(found) > 1:
            where = ", ".join(f"{r.folder}/{r.id}" for r in found)
            raise CrmError(
                f"'{record_id}' names several records: {where}", hint="write it as TYPE/ID"
            )
        return found[0]

    def catalog_path(self, name: str) -> str:
        return f"{CATALOG_DIR}/{name}.yaml"
