"""Read the facts (:mod:`crmfiles.records.facts`) of a revision's records, parsing only
the files whose content the cache does not know.

The cache (``.git/crmfiles/facts-v*.marshal``) holds, per record folder, the rows of
one git tree: path, blob id and facts of every record file of the tree that parsed
as a record, and the tree's paths whose content it never read (``dirty``).  A read
of any revision (the work tree, the index, a commit) starts from that tree: ``git
diff-tree`` says which files differ (O(changes)), the work tree's edits and untracked
files come from git's stat data, and of those only a file whose blob id the cache
has no facts for is parsed.  A blob id names its content, so a row is never wrong;
the file is keyed by the facts' definition and the parser too, so a change to either
starts afresh.  It is written atomically, under the cache folder's lock, and can be
deleted at any time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

from crmfiles import git
from crmfiles.cache import blob_id
from crmfiles.records import Record, classify
from crmfiles.records.facts import FIELDS, UNREADABLE, facts_of
from crmfiles.records.facts_file import Column, Deferred, FactsCache, Rows, Stored, decoded
from crmfiles.records.facts_table import MISSING, FactTable
from crmfiles.records.gitsources import Revision
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.yamlio import ParseError, parse

# fewer files parsed for the tree than this: not worth rewriting the cache
SAVE_THRESHOLD = 100


def read_facts(source: Source, *, use_cache: bool = True) -> dict[str, list[Record]]:
    """The facts of every kept folder's records (:data:`~crmfiles.records.facts.FIELDS`)
    at ``source``'s revision as records, each folder in path order, the first file of
    an id only (as :class:`~crmfiles.records.store.Repository` reads them)."""
    tables = read_tables(source, use_cache=use_cache)
    return {folder: table.records() for folder, table in tables.items()}


def read_tables(
    source: Source, *, use_cache: bool = True, folders: list[str] | None = None
) -> dict[str, FactTable]:
    """The facts of every kept folder's records at ``source``'s revision, as tables,
    or of these ``folders`` only: then git looks at them alone, a folder the work
    tree does not have is empty without asking, and the cache is not written (it
    holds every folder of one tree).  Files that cannot be read are left out of the
    rows, named in each table's ``unreadable``."""
    out: dict[str, FactTable] = {}
    if folders is not None:
        folders = [f for f in folders if f in FIELDS]
        out = {f: FactTable.of_rows(f, Rows()) for f in folders if not source.holds(f)}
        folders = [f for f in folders if f not in out]
        if not folders:
            return out
        source = source.narrowed(folders)
    store = FactsCache.for_root(source.root) if use_cache else None
    if store is not None:
        source.prefetch()  # git's look at the work tree, while the cache file loads
    stored = store.load() if store is not None else None
    tree = source.tree() if store is not None else None
    reader = _Read(source, stored if tree is not None else None, folders or list(FIELDS))
    out.update(reader.run(tree))
    # a past revision's rows (--at) would only push out the work tree's
    past = isinstance(source, Revision) and stored is not None
    every = folders is None
    if store is not None and tree is not None and reader.worth_saving() and not past and every:
        store.save(tree, reader.unread, reader.rows)
    return out


class _Table:
    """One folder's rows while a read patches them: paths and blob ids in path order,
    changed in place (a handful of changes among 100,000 rows costs a handful of
    moves in C), and each field's column decoded and patched when first asked for
    (:meth:`column`; the changes are kept to be applied to it then)."""

    def __init__(self, rows: Rows) -> None:
        self.paths = list(rows.paths)
        self.blobs = list(rows.blobs)
        self._kept: dict[str, Column] = dict(rows.columns)  # as the rows hold them
        # the changes in turn: (row, whether it replaced one, its facts; None: dropped)
        self._changes: list[tuple[int, bool, dict[str, Any] | None]] = []
        # a column first named by a change: (the changes before it, the rows then)
        self._born: dict[str, tuple[int, int]] = {}
        self._made: dict[str, tuple[list[Any], int]] = {}  # column, changes applied

    def names(self) -> list[str]:
        return [*self._kept, *self._born]

    def column(self, name: str) -> list[Any]:
        """A field's values, the changes so far applied (decoded once, then patched
        with the changes since)."""
        made = self._made.get(name)
        if made is None:
            if name in self._born:
                start, count = self._born[name]
                made = ([MISSING] * count, start)
            else:
                made = (list(decoded(self._kept[name])), 0)
        values, applied = made
        for at, replaced, facts in self._changes[applied:]:
            if facts is None:
                del values[at]
            elif replaced:
                values[at] = facts.get(name, MISSING)
            else:
                values.insert(at, facts.get(name, MISSING))
        self._made[name] = (values, len(self._changes))
        return values

    def _where(self, path: str) -> tuple[int, bool]:
        i = bisect.bisect_left(self.paths, path)
        return i, i < len(self.paths) and self.paths[i] == path

    def has(self, path: str) -> bool:
        return self._where(path)[1]

    def blob(self, path: str) -> str | None:
        i, found = self._where(path)
        return self.blobs[i] if found else None

    def facts(self, i: int) -> dict[str, Any]:
        values = {n: self.column(n)[i] for n in self.names()}
        return {n: v for n, v in values.items() if v is not MISSING}

    def put(self, path: str, blob: str, facts: dict[str, Any] | None) -> None:
        """A row (``facts`` None: not known yet, to be put again or dropped)."""
        facts = facts or {}
        for name in facts.keys() - set(self.names()):
            self._born[name] = (len(self._changes), len(self.paths))
        i, found = self._where(path)
        if found:
            self.blobs[i] = blob
        else:
            self.paths.insert(i, path)
            self.blobs.insert(i, blob)
        self._changes.append((i, found, facts))

    def drop(self, path: str) -> None:
        i, found = self._where(path)
        if found:
            del self.paths[i], self.blobs[i]
            self._changes.append((i, True, None))

    def rows(self) -> Rows:
        """The rows as they stand; a column still as kept when nothing changed, else
        worked out when first read (a column no row has any more is left out, once
        worked out)."""
        columns: dict[str, Column] = {}
        for name in self.names():
            if not self._changes and name in self._kept:
                columns[name] = self._kept[name]
            elif name in self._made or name == UNREADABLE:
                values = self.column(name)
                if any(v is not MISSING for v in values):
                    columns[name] = values
            else:
                columns[name] = _Patched(self, name, len(self._changes))
        return Rows(self.paths, self.blobs, columns)


class _Patched(Deferred):
    """A column of a :class:`_Table` as it stood at its :meth:`~_Table.rows`, made
    when first read."""

    def __init__(self, table: _Table, name: str, changes: int) -> None:
        self.table, self.name, self.changes = table, name, changes

    def decode(self) -> list[Any]:
        assert len(self.table._changes) == self.changes, "the table changed since"
        return self.table.column(self.name)


class _Read:
    """One read: the tree's rows put together from the stored ones and git's changes,
    the files whose facts are unknown parsed, the work tree's edits overlaid."""

    def __init__(self, source: Source, stored: Stored | None, folders: list[str]) -> None:
        self.source, self.stored = source, stored
        self.folders = folders
        self.parsed_for_tree = 0
        self.unread: set[str] = set()  # tree paths whose content this read did not learn
        self.rows: dict[str, Rows] = {}  # the tree's rows, per folder (to save)

    def run(self, tree: str | None) -> dict[str, FactTable]:
        prefixes = tuple(f + "/" for f in self.folders)
        stored = self.stored
        if stored is not None and tree is not None:
            changes = (
                []
                if stored.tree == tree
                else git.tree_changes(self.source.root, stored.tree, tree, self.folders)
            )
            edited = {p for p in self.source.dirty() if p.startswith(prefixes)}
            unknown = {p for p in stored.dirty if p.startswith(prefixes)} - edited
            listed = None
        else:
            changes, unknown = [], set()
            entries = [e for e in self.source.entries() if e.path.startswith(prefixes)]
            edited = {e.path for e in entries if e.blob is None and classify(e.path)}
            listed = [(e.path, e.blob) for e in entries if e.blob is not None]
        out: dict[str, FactTable] = {}
        for folder in self.folders:
            start = folder + "/"
            mine = [c for c in changes if c[1].startswith(start)]
            mine_edited = {p for p in edited if p.startswith(start)}
            mine_unknown = {p for p in unknown if p.startswith(start)}
            base = stored.rows(folder) if stored is not None and listed is None else Rows()
            if listed is None and not (mine or mine_edited or mine_unknown):
                self.rows[folder] = base  # the tree's rows stand, and are the answer
                out[folder] = FactTable.of_rows(folder, base)
                continue
            table = _Table(base)
            pending: set[str] = set()  # rows of the tree whose facts are not known yet
            if listed is not None:
                mine_listed = [(p, b) for p, b in listed if p.startswith(start) and classify(p)]
                table = _Table(Rows([p for p, _ in mine_listed], [b for _, b in mine_listed]))
                pending.update(table.paths)
            known: _Table | None = None
            by_blob: dict[str, int] = {}
            for status, path, mode, blob in mine:
                if status == "D" or classify(path) is None:
                    table.drop(path)
                elif mode in ("100644", "100755"):
                    if known is None:  # (by blob: a file may come back, or move)
                        known = _Table(base)
                        by_blob = {b: i for i, b in enumerate(known.blobs)}
                    i = by_blob.get(blob)
                    facts = None if i is None else known.facts(i)
                    table.put(path, blob, facts)
                    if facts is None:
                        pending.add(path)
                else:  # a symlink or a submodule: read (and refused) from the source
                    table.drop(path)
                    mine_edited.add(path)
            out[folder] = self._read(folder, table, pending, mine_edited, mine_unknown)
        return out

    def _read(
        self,
        folder: str,
        table: _Table,
        pending: set[str],
        edited: set[str],
        unknown: set[str],
    ) -> FactTable:
        """Parse what is not known: the tree's files (learned, unless edited) and the
        edited ones (answered, not kept)."""
        learn = (pending - edited) | {p for p in unknown if not table.has(p)}
        answered: dict[str, dict[str, Any]] = {}  # what the rows of the tree are not
        for path, raw_blob, content_blob, facts in parsed(
            self.source, folder, sorted(learn | edited)
        ):
            if path in edited:
                if facts is not None:
                    answered[path] = facts
                continue
            self.parsed_for_tree += 1
            pending.discard(path)
            if facts is None:
                table.drop(path)  # not a record: nothing to keep
            elif content_blob is None:  # refused (not a plain file): said, never kept
                table.drop(path)
                self.unread.add(path)
                answered[path] = facts
            else:  # (a file that does not parse is kept too: what is wrong with it)
                table.put(path, raw_blob or table.blob(path) or content_blob, facts)
        for path in pending:  # listed but gone, or edited: not learned
            table.drop(path)
            self.unread.add(path)
        self.unread.update(p for p in edited if not table.has(p))
        self.rows[folder] = table.rows()
        if edited or answered:
            table = _Table(self.rows[folder])
            for path in edited | answered.keys():
                if path in answered:
                    table.put(path, "", answered[path])
                else:
                    table.drop(path)
        return FactTable.of_rows(folder, table.rows())

    def worth_saving(self) -> bool:
        return self.parsed_for_tree >= SAVE_THRESHOLD or (
            self.stored is None and self.parsed_for_tree > 0
        )


Parsed = tuple[str, str | None, str | None, dict[str, Any] | None]
# files to parse: from this many on, a forked child parses the second half (as
# ``crm validate``'s helper checks half): the first read of a clone is then no slower
FORK_FROM = 2000


def parsed(source: Source, folder: str, paths: list[str]) -> Iterator[Parsed]:
    """Each file's path, blob id as the source gives it, blob id of the content read
    (None: refused, not a plain file) and facts (:func:`_parse`), in path order; the
    second half parsed by a forked child when there are many (a work tree's files
    only: a git source reads through a ``cat-file`` process a child cannot share)."""
    from crmfiles.records.stream import Forked
    from crmfiles.records.worktree import WorkTree

    if len(paths) < FORK_FROM or type(source) is not WorkTree:
        yield from _parsed_files(source, folder, paths)
        return
    split = len(paths) // 2
    child = Forked(lambda: list(_parsed_files(source, folder, paths[split:])))
    try:
        yield from _parsed_files(source, folder, paths[:split] if child.pid else paths)
    finally:
        answer = child.answer() if child.pid > 0 else None
    if child.pid:
        yield from answer[0] if answer else _parsed_files(source, folder, paths[split:])


def _parsed_files(source: Source, folder: str, paths: list[str]) -> Iterator[Parsed]:
    for raw in source.files_at(paths):
        content_blob = None if raw.content is None else blob_id(raw.content)
        yield raw.path, raw.blob, content_blob, _parse(folder, raw)


def _parse(folder: str, raw: RawFile) -> dict[str, Any] | None:
    """A file's facts; what is wrong with it (:data:`UNREADABLE`) when it cannot be
    read or parsed, as :func:`~crmfiles.records.lookup.read_record` says it; None when
    it holds no mapping (no record)."""
    if raw.content is None:
        return {UNREADABLE: f"{raw.path}: {raw.refusal or 'cannot be read'}"}
    try:
        data = parse(raw.content.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        return {UNREADABLE: f"{raw.path}: not valid UTF-8"}
    except ParseError as err:
        return {UNREADABLE: f"{raw.path}:{err.line or 1}: {err.message}"}
    return facts_of(folder, data) if isinstance(data, dict) else None
