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
import hashlib
import marshal
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Any

from crmfiles import __version__, git, notices
from crmfiles.cache import blob_id
from crmfiles.records import Record, classify
from crmfiles.records.facts import FIELDS, facts_of
from crmfiles.records.sources import RawFile, Revision, Source
from crmfiles.records.yamlio import ParseError, parse

FORMAT = 1
# fewer files parsed for the tree than this: not worth rewriting the cache
SAVE_THRESHOLD = 100


@cache
def _definition() -> str:
    """What facts depend on besides a file's content: crmfiles' version, this code,
    the facts' definition and the YAML reader."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{FORMAT}:{__version__}".encode())
    here = Path(__file__).resolve().parent
    for name in ("facts.py", "facts_cache.py", "yamlio.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


@dataclass
class Rows:
    """One folder's records of one tree, in path order: path, blob id and facts."""

    paths: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stored:
    """What the cache file holds: the tree, its unread paths, and each folder's rows
    (unmarshalled when a reader asks for the folder)."""

    tree: str
    dirty: list[str]
    folders: dict[str, bytes]

    def rows(self, folder: str) -> Rows:
        raw = self.folders.get(folder)
        if raw is None:
            return Rows()
        paths, blobs, facts = marshal.loads(raw)
        return Rows(paths.split("\0") if paths else [], _split40(blobs), facts)


def _split40(blobs: str) -> list[str]:
    return [blobs[i : i + 40] for i in range(0, len(blobs), 40)]


class FactsCache:
    """The facts file of one repository's cache folder."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / f"facts-v{FORMAT}.marshal"

    @classmethod
    def for_root(cls, root: Path) -> FactsCache | None:
        if os.environ.get("CRM_NO_CACHE"):
            return None
        from crmfiles.cache import cache_dir

        directory = cache_dir(root)
        return cls(directory) if directory is not None else None

    def load(self) -> Stored | None:
        try:
            with open(self.path, "rb") as handle:
                stored = marshal.load(handle)
            if not isinstance(stored, dict) or stored.get("key") != _definition():
                return None
            return Stored(str(stored["tree"]), list(stored["dirty"]), dict(stored["folders"]))
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            return None

    def save(self, tree: str, dirty: Iterable[str], folders: dict[str, Rows]) -> None:
        from crmfiles.cache import _dump_atomic, writing

        packed = {
            name: marshal.dumps(("\0".join(rows.paths), "".join(rows.blobs), rows.facts))
            for name, rows in folders.items()
        }
        content = {"key": _definition(), "tree": tree, "dirty": sorted(dirty), "folders": packed}
        try:
            with writing(self.dir):
                _dump_atomic(self.path, marshal.dumps(content))
        except (OSError, ValueError):
            pass  # a cache that cannot be written is a slower next read, not an error


def read_facts(source: Source, *, use_cache: bool = True) -> dict[str, list[Record]]:
    """The facts of every kept folder's records (:data:`~crmfiles.records.facts.FIELDS`)
    at ``source``'s revision, each folder in path order, the first file of an id
    only (as :class:`~crmfiles.records.store.Repository` reads them).  Files that
    cannot be read are left out with a notice."""
    store = FactsCache.for_root(source.root) if use_cache else None
    stored = store.load() if store is not None else None
    tree = source.tree() if store is not None else None
    reader = _Read(source, stored if tree is not None else None)
    result = reader.run(tree)
    # a past revision's rows (--at) would only push out the work tree's
    past = isinstance(source, Revision) and stored is not None
    if store is not None and tree is not None and reader.worth_saving() and not past:
        store.save(tree, reader.unread, reader.rows)
    return result


class _Table:
    """One folder's rows while a read patches them: lists in path order, changed in
    place (a handful of changes among 100,000 rows costs a handful of moves in C)."""

    def __init__(self, rows: Rows) -> None:
        self.paths = list(rows.paths)
        self.blobs = list(rows.blobs)
        self.facts: list[dict[str, Any] | None] = list(rows.facts)

    def _where(self, path: str) -> tuple[int, bool]:
        i = bisect.bisect_left(self.paths, path)
        return i, i < len(self.paths) and self.paths[i] == path

    def get(self, path: str) -> tuple[str, dict[str, Any] | None] | None:
        i, found = self._where(path)
        return (self.blobs[i], self.facts[i]) if found else None

    def put(self, path: str, blob: str, facts: dict[str, Any] | None) -> None:
        i, found = self._where(path)
        if found:
            self.blobs[i], self.facts[i] = blob, facts
        else:
            self.paths.insert(i, path)
            self.blobs.insert(i, blob)
            self.facts.insert(i, facts)

    def drop(self, path: str) -> None:
        i, found = self._where(path)
        if found:
            del self.paths[i], self.blobs[i], self.facts[i]

    def rows(self) -> Rows:
        """The rows whose facts are known."""
        keep = [i for i, f in enumerate(self.facts) if f is not None]
        if len(keep) == len(self.paths):
            return Rows(self.paths, self.blobs, self.facts)  # type: ignore[arg-type]
        return Rows(
            [self.paths[i] for i in keep],
            [self.blobs[i] for i in keep],
            [self.facts[i] for i in keep],  # type: ignore[misc]
        )


class _Read:
    """One read: the tree's rows put together from the stored ones and git's changes,
    the files whose facts are unknown parsed, the work tree's edits overlaid."""

    def __init__(self, source: Source, stored: Stored | None) -> None:
        self.source, self.stored = source, stored
        self.folders = list(FIELDS)
        self.parsed_for_tree = 0
        self.unread: set[str] = set()  # tree paths whose content this read did not learn
        self.rows: dict[str, Rows] = {}  # the tree's rows, per folder (to save)

    def run(self, tree: str | None) -> dict[str, list[Record]]:
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
        out: dict[str, list[Record]] = {}
        for folder in self.folders:
            start = folder + "/"
            mine = [c for c in changes if c[1].startswith(start)]
            mine_edited = {p for p in edited if p.startswith(start)}
            mine_unknown = {p for p in unknown if p.startswith(start)}
            base = stored.rows(folder) if stored is not None and listed is None else Rows()
            if listed is None and not (mine or mine_edited or mine_unknown):
                self.rows[folder] = base  # the tree's rows stand, and are the answer
                out[folder] = _facts(folder, base.paths, base.facts)
                continue
            table = _Table(base)
            pending: set[str] = set()  # rows of the tree whose facts are not known yet
            if listed is not None:
                mine_listed = [(p, b) for p, b in listed if p.startswith(start) and classify(p)]
                table = _Table(Rows([p for p, _ in mine_listed], [b for _, b in mine_listed]))
                table.facts = [None] * len(table.paths)
                pending.update(table.paths)
            known: dict[str, dict[str, Any]] | None = None
            for status, path, mode, blob in mine:
                if status == "D" or classify(path) is None:
                    table.drop(path)
                elif mode in ("100644", "100755"):
                    if known is None:  # (by blob: a file may come back, or move)
                        known = dict(zip(base.blobs, base.facts, strict=True))
                    facts = known.get(blob)
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
    ) -> list[Record]:
        """Parse what is not known: the tree's files (learned, unless edited) and the
        edited ones (answered, not kept)."""
        learn = (pending - edited) | {p for p in unknown if table.get(p) is None}
        answered: dict[str, dict[str, Any]] = {}
        for raw in self.source.files_at(sorted(learn | edited)):
            facts = _parse(folder, raw)
            if raw.path in edited:
                if facts is not None:
                    answered[raw.path] = facts
                continue
            self.parsed_for_tree += 1
            pending.discard(raw.path)
            if facts is None:
                table.drop(raw.path)  # not a record: nothing to keep
            else:
                had = table.get(raw.path)
                blob = raw.blob or (had[0] if had else "") or blob_id(raw.content or b"")
                table.put(raw.path, blob, facts)
        for path in pending:  # listed but gone, or edited: not learned
            table.drop(path)
            self.unread.add(path)
        self.unread.update(p for p in edited if table.get(p) is None)
        self.rows[folder] = table.rows()
        if edited:
            table = _Table(self.rows[folder])
            for path in edited:
                if path in answered:
                    table.put(path, "", answered[path])
                else:
                    table.drop(path)
        return _facts(folder, table.paths, table.facts)

    def worth_saving(self) -> bool:
        return self.parsed_for_tree >= SAVE_THRESHOLD or (
            self.stored is None and self.parsed_for_tree > 0
        )


def _parse(folder: str, raw: RawFile) -> dict[str, Any] | None:
    """A file's facts; None (with a notice when it could not be read at all) when it
    is no record."""
    if raw.content is None:
        why = raw.refusal or "cannot be read"
        notices.warn(f"{raw.path}: {why}; left out of this answer")
        return None
    try:
        data = parse(raw.content.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ParseError):
        return None
    return facts_of(folder, data) if isinstance(data, dict) else None


def _facts(folder: str, paths: list[str], facts: Sequence[dict[str, Any] | None]) -> list[Record]:
    """One folder's records as facts, the first path of an id only."""
    stems = [p.rpartition("/")[2].rpartition(".")[0] for p in paths]
    if len(set(stems)) == len(stems) and None not in facts:  # no id twice: all of them
        return list(map(Record, repeat(folder), stems, paths, facts, repeat(""), repeat(False)))
    seen: set[str] = set()
    out: list[Record] = []
    for stem, path, data in zip(stems, paths, facts, strict=True):
        if data is None or stem in seen:
            continue
        seen.add(stem)
        out.append(Record(folder, stem, path, data, whole=False))
    return out
