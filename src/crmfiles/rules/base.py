"""What a rule sees: the revision's records and catalogs, and small typed accessors."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmfiles.cachesnapshot import PathColumn
from crmfiles.config import Config
from crmfiles.diagnostics import Finding
from crmfiles.records import LoadedFile
from crmfiles.rulefacts import facts_of, kept_in

if TYPE_CHECKING:
    from crmfiles.records.facts_table import FactTable
    from crmfiles.records.store import Repository


@dataclass
class Context:
    """One revision as the rules see it.

    ``files`` holds the catalogs, every file parsed in this run, and objects made on
    demand for files the cache restored (``file(path)``); ``record_paths`` lists every
    record of the revision.  In a warm run most records never become an object: the
    rules that look at all of them read the cache's columns (``name_key_of``,
    ``currency_of``) instead.
    """

    config: Config
    files: list[LoadedFile]
    # catalog name -> entry id -> entry; absent when the catalog could not be read
    catalogs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    catalog_paths: dict[str, str] = field(default_factory=dict)
    record_paths: Sequence[str] = field(default_factory=list)
    # where files restored from the cache are read from when a rule needs their data
    source: Any = None
    # False: the record ids and partner roles are as in the cached run, so the
    # id-dependent rules need to look at the files parsed in this run only
    recheck_all: bool = True
    snapshot: Any = None  # cachesnapshot.CheckSnapshot of the files restored from the cache
    restored: Any = field(default_factory=dict)  # path -> blob, of the files from the cache
    tree: str | None = None  # the git tree the revision was listed from
    # restored files whose id-dependent findings are checked again (an id they
    # missed may exist now)
    rescan: list[LoadedFile] = field(default_factory=list)
    stray_catalogs: list[str] = field(default_factory=list)  # catalogs/ files read by no one
    collective: list[Finding] = field(default_factory=list)  # findings across records
    outside_tree: set[str] = field(default_factory=set)  # read from the work tree instead
    cold: Callable[[], dict[str, tuple[str, list[Any], dict[str, Any] | None]]] | None = None
    cache: Any = None  # the warm-run cache (crmfiles.cache.Cache), when there is one
    cache_key: str | None = None
    ids_key: str | None = None  # the snapshot's, when the record paths are the same
    # record paths the cached run did not have (None: not known, think all of them new)
    added: set[str] | None = None
    _by_path: dict[str, LoadedFile] = field(default_factory=dict, repr=False)
    _ids: dict[str, IdIndex] = field(default_factory=dict, repr=False)
    _cold: dict[str, tuple[str, list[Any], dict[str, Any] | None]] | None = field(
        default=None, repr=False
    )
    _repository: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._by_path = {f.path: f for f in self.files}

    def add(self, f: LoadedFile) -> None:
        self.files.append(f)
        self._by_path[f.path] = f

    @property
    def files_by_path(self) -> dict[str, LoadedFile]:
        """The files that are objects already (parsed, or made from the cache)."""
        return self._by_path

    def by_path(self, path: str) -> LoadedFile | None:
        return self._by_path.get(path) or self.file(path)

    def file(self, path: str) -> LoadedFile | None:
        """The file at ``path``, made from the cache's columns when it has no object."""
        found = self._by_path.get(path)
        if found is not None or path not in self.restored:
            return found
        from crmfiles.records import classify

        place = classify(path)
        if place is None:
            return None
        snap = self.snapshot
        had = snap.found.get(path) if snap is not None else None
        facts = self._cached_facts(path)
        f = LoadedFile(
            path,
            place,
            self.restored[path],
            had.text if had else None,
            None,
            True,
            list(had.findings) if had else [],
            None,
            facts,
            False,
        )
        self.files.append(f)
        self._by_path[path] = f
        return f

    def _cached_facts(self, path: str) -> dict[str, Any] | None:
        if self.recheck_all:
            entry = self._cold_store().get(path)
            if entry is not None and entry[0] == self.restored.get(path):
                return entry[2]
        snap = self.snapshot
        where = self.restored._where(path) if hasattr(self.restored, "_where") else None
        if snap is None or where is None:
            return None
        return facts_of(path.split("/", 1)[0], kept_in(snap, path, where))

    def cached_name_key(self, path: str) -> str | None:
        """How a restored opportunity's name compares, from the cache's columns."""
        where = self.restored._where(path) if self.snapshot is not None else None
        return (self.snapshot.name_key(where) or None) if where is not None else None

    def _cold_store(self) -> dict[str, tuple[str, list[Any], dict[str, Any] | None]]:
        if self._cold is None:
            self._cold = self.cold() if self.cold is not None else {}
        return self._cold

    def all_files(self) -> list[LoadedFile]:
        """Every file of the revision as an object (the slow path: a cold run, or
        ids that changed since the cached run)."""
        for path in self.record_paths:
            self.file(path)
        return self.files

    def folder_paths(self, folder: str) -> Sequence[str]:
        """The record paths of one folder: a slice of the sorted ``record_paths``."""
        lo = bisect.bisect_left(self.record_paths, folder + "/")
        hi = bisect.bisect_left(self.record_paths, folder + "0", lo)  # "0" sorts after "/"
        return self.record_paths[lo:hi]

    @property
    def ids(self) -> dict[str, IdIndex]:
        """record folder -> id -> first path holding it (built per folder on demand)."""
        return _LazyIds(self)

    def ids_of(self, folder: str) -> IdIndex:
        """id -> the first path (in path order) of a record folder holding it."""
        if folder not in self._ids:
            from crmfiles.records import RECORD_FOLDERS

            self._ids[folder] = IdIndex(
                self.folder_paths(folder) if folder in RECORD_FOLDERS else []
            )
        return self._ids[folder]

    def records(self, folder: str) -> Iterator[LoadedFile]:
        """The readable records of a folder, with their data (read now for files
        restored from the cache)."""
        files = [f for f in (self.file(p) for p in self.folder_paths(folder)) if f is not None]
        self.materialize(files)
        for f in files:
            if isinstance(f.data, dict):
                yield f

    def materialize(self, files: list[LoadedFile]) -> None:
        """Read and parse the files restored from the cache, which carry no data."""
        from crmfiles.records.yamlio import ParseError, parse

        missing = [f for f in files if f.data is None and (not f.fresh or f.released)]
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

    def repository(self) -> Repository:
        """This revision as readers read it (:class:`~crmfiles.records.store.Repository`
        on the same source, knowing the config and catalogs read here): its
        ``fact_table`` reads facts from the facts cache, parsing only the files git says
        changed since the cache's tree, where :meth:`records` parses every file."""
        if self._repository is None:
            from crmfiles.records.store import Repository

            repo = Repository(self.source.root, self.source)
            self._repository = repo.knowing(self.config, self.catalogs)
        return self._repository

    def doubles(self, folder: str, table: FactTable) -> list[LoadedFile]:
        """The readable records of ``folder`` a fact table of it leaves out, in path
        order: facts hold an id's first file only, and a second file with that id
        (a finding of its own) is read whole."""
        listed = self.folder_paths(folder)
        if len(listed) == len(table):
            return []
        files = [self.file(p) for p in sorted(set(listed) - set(table.paths))]
        found = [f for f in files if f is not None]
        self.materialize(found)
        return [f for f in found if isinstance(f.data, dict)]

    def text_for(self, path: str) -> str | None:
        f = self.by_path(path)
        if f is None:
            return None
        if f.text is None:
            self.materialize([f])
        return f.text

    def data_for(self, path: str) -> Any:
        f = self.by_path(path)
        if f is None:
            return None
        self.materialize([f])
        return f.data

    def known(self, target: str) -> Mapping[str, Any] | None:
        """The ids of a reference target, or None when they cannot be known (a
        broken catalog: its own diagnostic says why, references to it stay quiet)."""
        if target in self.catalogs:
            return self.catalogs[target]
        from crmfiles.records import RECORD_FOLDERS

        if target in RECORD_FOLDERS:
            return self.ids_of(target)
        return None

    def scope(self) -> list[LoadedFile]:
        """The files the id-dependent rules look at: every file when ids changed since
        the cached run, else the files parsed in this run."""
        if self.recheck_all:
            return list(self.all_files())
        return [f for f in self.files if f.fresh] + self.rescan

    def value(self, f: LoadedFile, key: str) -> Any:
        """A field of a record, read from its file when the cache kept no such fact."""
        if isinstance(f.data, dict):
            return f.data.get(key)
        if f.facts is not None and key in f.facts:
            return f.facts[key]
        self.materialize([f])
        return f.data.get(key) if isinstance(f.data, dict) else None

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
                # a few files: read them; many (ids changed): the cache's cold store
                entry = self._cold_store().get(f.path) if self.recheck_all else None
                if entry is not None and entry[0] == f.blob:
                    f.refs = entry[1]
                else:
                    self.materialize([f])
                    f.refs = [] if f.data is None else self.refs_of(f)
        return f.refs

    def record_facts(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """The facts of one record of this revision (the first file with that id)."""
        path = self.ids_of(folder).get(record_id)
        found = self.by_path(path) if path is not None else None
        if found is None:
            return None
        if isinstance(found.data, dict):
            return found.data
        return found.facts

    def record_data(self, folder: str, record_id: str) -> dict[str, Any] | None:
        """The data of one record of this revision (the first file with that id)."""
        path = self.ids_of(folder).get(record_id)
        data = self.data_for(path) if path is not None else None
        return data if isinstance(data, dict) else None

    def catalog_entry(self, name: str, entry_id: Any) -> dict[str, Any] | None:
        if not isinstance(entry_id, str):
            return None
        return (self.catalogs.get(name) or {}).get(entry_id)


def record_id(path: str) -> str:
    """The id a record file holds: its name without the extension."""
    return path.rpartition("/")[2].rpartition(".")[0]


class IdIndex(Mapping[str, str]):
    """A record folder's ids (id -> the first path, in path order, holding it).

    An operation asks about a few ids of 100,000: those are found by searching one
    string of the joined paths; once many are asked, or all (``len``, iteration), the
    dict is built."""

    LOOKUPS = 64

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = paths
        self._dict: dict[str, str] | None = None
        self._text: tuple[str, int, int] | None = None  # the joined paths: text[lo:hi]
        self._lookups = 0

    def _all(self) -> dict[str, str]:
        if self._dict is None:
            out: dict[str, str] = {}
            for path in self._paths:
                out.setdefault(record_id(path), path)
            self._dict = out
        return self._dict

    def paths_of(self, key: str) -> list[str]:
        """Every path holding id ``key``, in path order."""
        if self._text is None:
            paths = self._paths
            if isinstance(paths, PathColumn):  # searched in place: no copy of 8 MB
                self._text = paths.span()
            else:
                joined = "\0".join(paths)
                self._text = (joined, 0, len(joined))
        (text, lo, hi), out = self._text, []
        needle = f"/{key}."
        pos = text.find(needle, lo, hi)
        while pos != -1:
            start = max(text.rfind("\0", lo, pos) + 1, lo)
            end = text.find("\0", pos, hi)
            path = text[start : hi if end == -1 else end]
            if record_id(path) == key:
                out.append(path)
            pos = text.find(needle, pos + 1, hi)
        return out

    def get(self, key: object, default: Any = None) -> Any:
        if not isinstance(key, str):
            return default
        if self._dict is None and self._lookups < self.LOOKUPS:
            self._lookups += 1
            found = self.paths_of(key)
            return found[0] if found else default
        return self._all().get(key, default)

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return str(found)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _LazyIds(dict[str, IdIndex]):
    """``ctx.ids[folder]`` building each folder's index only when it is asked for."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self._ctx = ctx

    def __missing__(self, folder: str) -> IdIndex:
        return self._ctx.ids_of(folder)

    def get(self, folder: str, default: Any = None) -> Any:
        return self._ctx.ids_of(folder)

    def __contains__(self, folder: object) -> bool:
        from crmfiles.records import RECORD_FOLDERS

        return folder in RECORD_FOLDERS


RecordRule = Callable[[Context, LoadedFile], Iterator[Finding]]
GlobalRule = Callable[[Context], Iterator[Finding]]


def text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def finding(
    rule: str, f: LoadedFile, message: str, pointer: tuple[str | int, ...] = (), **kw: Any
) -> Finding:
    return Finding(
        rule=rule, path=f.path, message=message, pointer=pointer, record=f.place.id, **kw
    )
