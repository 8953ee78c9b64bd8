"""Read access to a CRM repository for commands that show or change records.

Unlike the checker, this parses only what a command asks for (a folder, the
catalogs) and never validates; a record file that cannot be read or parsed is
skipped here, with a warning (:mod:`crmfiles.notices`) that the answer leaves it out,
kept in :attr:`Repository.unreadable` (a list says so beside its totals, ``get`` of
its id says why), and reported in full by ``crm validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from crmfiles import notices
from crmfiles.config import Config, find_root, parse_config
from crmfiles.errors import CrmError
from crmfiles.records import CATALOG_DIR, RECORD_FOLDERS, Record, classify
from crmfiles.records.catalogs import Catalogs, catalogs_of_files
from crmfiles.records.facts import FIELDS, kept
from crmfiles.records.facts_cache import read_tables
from crmfiles.records.facts_file import FactsCache, stems
from crmfiles.records.facts_table import FactTable
from crmfiles.records.lookup import (
    FIX_FIRST,
    Finder,
    parse_record,
    read_record,
    read_text,
    the_one,
    wanted,
)
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.worktree import WorkTree

T = TypeVar("T")


class Repository:
    """The records of one revision, read a folder at a time as they are asked for
    (when the source can; otherwise everything at the first question)."""

    def __init__(self, root: Path, source: Source | None = None) -> None:
        self.root = root
        self.source = source or WorkTree(root)
        self._folders: dict[str, dict[str, Record]] = {}
        self._catalog_data: Catalogs | None = None
        self._facts: dict[str, FactTable] = {}
        self._told: set[str] = set()  # the folders whose unreadable files were told
        self._alone = False  # each folder's facts read alone (after fact_tables)
        self._seen = False  # the source was read by another reader just now (knowing)
        #: record files that could not be read: path -> (folder, id, what is wrong
        #: as ``path:line: message``)
        self.unreadable: dict[str, tuple[str, str, str]] = {}

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

    def _catalogs(self) -> Catalogs:
        if self._catalog_data is None:
            self.config  # noqa: B018
            if self.source.by_folder:
                self._catalog_data = catalogs_of_files(
                    self.source.catalog_files(), unreadable=_left_out
                )
            else:
                self._read_everything()
        assert self._catalog_data is not None
        return self._catalog_data

    def _read_everything(self) -> None:
        self._folders = {folder: {} for folder in RECORD_FOLDERS}
        catalog_files: list[RawFile] = []
        self._read(self.source.files(), catalog_files)
        self._catalog_data = catalogs_of_files(catalog_files, unreadable=_left_out)

    def _read(self, files: Iterable[RawFile], catalog_files: list[RawFile] | None = None) -> None:
        for raw in files:
            place = classify(raw.path)
            if place is None:
                continue
            if place.kind == "catalog":
                if catalog_files is not None:
                    catalog_files.append(raw)
                continue
            if place.kind != "record":
                continue  # crm.yaml: its own error, from self.config
            record, said = read_record(raw, place)
            if said is not None:
                self.unreadable[raw.path] = (place.name, place.id, said)
                notices.warn(f"{said}; left out of this answer")
            elif record is not None:
                self._folders.setdefault(place.name, {}).setdefault(place.id, record)

    def holding(self, folders: Mapping[str, dict[str, Record]]) -> Repository:
        """This repository answering with these folders, as read already (a reader
        that holds them: the TUI's snapshot); the others are read when asked for."""
        if self.source.by_folder:
            self._folders.update({name: dict(by_id) for name, by_id in folders.items()})
        return self

    def knowing(self, config: Config, catalogs: Catalogs) -> Repository:
        """This repository as another reader of the same revision (the checker, before
        ``crm changes`` reads the facts) read it just now: its crm.yaml and catalogs,
        and what git said of the work tree (:meth:`Source.again`), not asked again."""
        self.__dict__["config"] = config
        self._catalog_data = catalogs
        self._seen = True
        return self

    def records(self, folder: str) -> list[Record]:
        return sorted(self._folder(folder).values(), key=lambda r: r.path)

    def unreadable_in(self, folder: str) -> list[str]:
        """The files of ``folder`` that could not be read (left out of it): of its
        facts when it was read as facts, else of it read whole."""
        if folder in self._facts and folder not in self._folders:
            self.fact_table(folder)
        else:
            self._folder(folder)
        return sorted(p for p, (f, _, _) in self.unreadable.items() if f == folder)

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
        if folder not in self._facts:
            self.config  # noqa: B018 - a repository whose crm.yaml cannot be read is none
            # every folder at the first question; after fact_tables, this one alone
            with self.source.again() if self._seen else nullcontext():
                self._take(read_tables(self.source, folders=[folder] if self._alone else None))
        table = self._facts[folder]
        if folder not in self._told:  # as a whole read says so: each file once
            self._told.add(folder)
            for path, said in table.unreadable.items():
                self.unreadable[path] = (folder, stems([path])[0], said)
                notices.warn(f"{said}; left out of this answer")
        return table

    def fact_tables(self, folders: Iterable[str]) -> dict[str, FactTable]:
        """:meth:`fact_table` of each of ``folders``, those not read yet read together
        and alone: git looks at these folders only (a reader of a few folders of a
        large repository: ``crm show``), and at each other folder alone when it is
        asked for.  Such a read is not kept in the cache."""
        self._alone = True
        folders = list(dict.fromkeys(folders))
        unread = [f for f in folders if kept(f) and f not in self._folders and f not in self._facts]
        if unread:
            self.config  # noqa: B018
            with self.source.again() if self._seen else nullcontext():
                self._take(read_tables(self.source, folders=unread))
        return {f: self.fact_table(f) for f in folders}

    def opened(self, table: FactTable, rows: Iterable[int]) -> list[Record]:
        """The records of these rows of a folder's facts (:meth:`fact_table`) whole,
        in path order: as read where the folder was read whole, else each file parsed
        on its own."""
        folder = table.folder
        paths = [table.paths[i] for i in sorted(set(rows))]
        if folder in self._folders or not kept(folder):
            by_path = {r.path: r for r in self._folder(folder).values()}
            return [by_path[p] for p in paths if p in by_path]
        out: list[Record] = []
        for raw in self.source.files_at(paths):
            place = classify(raw.path)
            record, said = read_record(raw, place) if place else (None, None)
            if said is not None:  # (changed since its facts were read)
                notices.warn(f"{said}; left out of this answer")
            elif record is not None:
                out.append(record)
        return out

    def _take(self, tables: dict[str, FactTable], *, replacing: bool = False) -> None:
        """These tables as the facts (``replacing`` all of them: what those taken
        before said is withdrawn); each one's unreadable files are said when it is
        first handed out (:meth:`fact_table`), as a whole read of its folder says them."""
        if replacing:
            for folder in self._told:
                for path, said in self._facts[folder].unreadable.items():
                    self.unreadable.pop(path, None)
                    notices.withdraw(f"{said}; left out of this answer")
            self._facts, self._told = {}, set()
        self._facts.update(tables)

    def provisional_facts(self) -> Callable[[], bool] | None:
        """Take the facts cache's tables as the answer before git has said whether
        the work tree changed them, so a reader works with them while git looks (at
        100,000 records git's look takes a third of a second); returns ``confirm``,
        which waits for git and says whether they stand.  When they do not, the facts
        are read again with git's answer and the reader asks again.  None: nothing
        taken (no cache of the current tree, or a source that is not the work tree)."""
        source = self.source
        if self._facts or type(source) is not WorkTree or source.answered():
            return None  # (git has answered already: the facts are read with its answer)
        self.config  # noqa: B018 - a repository whose crm.yaml cannot be read is none
        store = FactsCache.for_root(source.root)
        if store is None:
            return None
        source.prefetch()  # git's look at the work tree, and its tree, while the cache loads
        tree = source.tree_soon()
        stored = store.load()
        folders = tuple(f + "/" for f in FIELDS)
        if stored is None or any(p.startswith(folders) for p in stored.dirty):
            tree()
            return None
        self._take({f: FactTable.of_rows(f, stored.rows(f)) for f in FIELDS})

        def confirm() -> bool:
            changed = source.dirty()
            if tree() == stored.tree and not any(p.startswith(folders) for p in changed):
                return True  # (read_tables would answer the stored rows)
            source.hold_dirty(changed)
            self._take(read_tables(source), replacing=True)
            return False

        return confirm

    def provisionally(self, compute: Callable[[], T]) -> T:
        """``compute()`` of the facts cache's tables while git looks at the work tree
        (:meth:`provisional_facts`); computed again when git says they do not stand,
        also when the first answer was an error (a view or partner it did not know)."""
        confirm = self.provisional_facts()
        try:
            answer = compute()
        except CrmError:
            if confirm is None or confirm():
                raise
            return compute()
        if confirm is not None and not confirm():
            return compute()
        return answer

    def one(self, folder: str, record_id: str) -> Record | None:
        """The record of this id in ``folder``, whole (None: there is none): in the
        work tree, the one file where crm.yaml's layout puts it (as :meth:`get` finds
        it), parsed alone; else, or when that is none, several or no record, the one
        :meth:`opened` gives of its row of the folder's facts."""
        if type(self.source) is WorkTree and folder not in self._folders:
            placed = Finder(self.root, lambda: self.config).placed(folder, record_id)
            place = classify(placed[0]) if len(placed) == 1 else None
            for raw in self.source.files_at(placed if place else []):
                record, _ = read_record(raw, place) if place else (None, None)
                if record is not None:
                    return record
        table = self.fact_tables([folder])[folder]
        row = table.where(record_id)
        found = self.opened(table, [row] if row is not None else [])
        return found[0] if found else None

    def by_id(self, folder: str) -> dict[str, Record]:
        """One folder's records by id."""
        return self._folder(folder)

    @property
    def catalogs(self) -> Catalogs:
        """Every catalog (:mod:`crmfiles.records.catalogs`), read at the first question."""
        return self._catalogs()

    def catalog(self, name: str) -> dict[str, dict[str, Any]]:
        return dict(self._catalogs().get(name, {}))

    def get(self, record_id: str, folder: str | None = None) -> Record:
        """A record by id (``type/id``, ``folder/id`` or a bare id searched in every
        folder): in the work tree, where crm.yaml's layout puts it
        (:mod:`crmfiles.records.lookup`), the one file parsed; else from the folders
        read."""
        self.config  # noqa: B018 - a repository whose crm.yaml cannot be read is none
        folders, record_id = wanted(record_id, (folder,) if folder else None)
        if folder and folder not in RECORD_FOLDERS:
            raise CrmError(
                f"unknown record type '{folder}'", hint=f"one of: {', '.join(RECORD_FOLDERS)}"
            )
        every = folders or tuple(RECORD_FOLDERS)
        if type(self.source) is WorkTree and not all(f in self._folders for f in every):
            finder = Finder(self.root, lambda: self.config)
            found, path = the_one(record_id, folders, finder.paths_of(every, record_id))
            text = read_text(self.root, path)
            return Record(found, record_id, path, parse_record(path, text), text)
        hits = [(f, self._folder(f)[record_id].path) for f in every if record_id in self._folder(f)]
        broken = [
            said for f, rid, said in self.unreadable.values() if rid == record_id and f in every
        ]
        if not hits and broken:
            notices.withdraw(f"{broken[0]}; left out of this answer")
            raise CrmError(broken[0], hint=FIX_FIRST)
        found, path = the_one(record_id, folders, hits)
        return self._folder(found)[record_id]

    def catalog_path(self, name: str) -> str:
        return f"{CATALOG_DIR}/{name}.yaml"


def _left_out(raw: RawFile) -> None:
    notices.warn(f"{raw.path}: {raw.refusal or 'cannot be read'}; left out of this answer")
