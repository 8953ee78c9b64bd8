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

import hashlib
import marshal
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
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


Row = tuple[str, dict[str, Any] | None]  # (blob id, facts; None: not read yet)


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
                out[folder] = _facts(folder, zip(base.paths, base.facts, strict=True))
                continue
            tree_rows: dict[str, Row] = dict(
                zip(base.paths, zip(base.blobs, base.facts, strict=True), strict=True)
            )
            known = dict(zip(base.blobs, base.facts, strict=True))
            for path, blob in listed or ():
                if path.startswith(start) and classify(path):
                    tree_rows[path] = (blob, None)
            for status, path, mode, blob in mine:
                tree_rows.pop(path, None)
                if status == "D" or classify(path) is None:
                    continue
                if mode in ("100644", "100755"):
                    tree_rows[path] = (blob, known.get(blob))
                else:  # a symlink or a submodule: read (and refused) from the source
                    mine_edited.add(path)
            out[folder] = self._read(folder, tree_rows, mine_edited, mine_unknown)
        return out

    def _read(
        self, folder: str, tree_rows: dict[str, Row], edited: set[str], unknown: set[str]
    ) -> list[Record]:
        """Parse what is not known: the tree's files (learned, unless edited) and the
        edited ones (answered, not kept)."""
        learn = {p for p, (_, f) in tree_rows.items() if f is None and p not in edited}
        learn |= unknown - set(tree_rows)
        answered: dict[str, dict[str, Any]] = {}
        for raw in self.source.files_at(sorted(learn | edited)):
            facts = _parse(folder, raw)
            if raw.path in edited:
                if facts is not None:
                    answered[raw.path] = facts
                continue
            self.parsed_for_tree += 1
            if facts is None:
                tree_rows.pop(raw.path, None)  # not a record: nothing to keep
            else:
                blob = raw.blob or tree_rows.get(raw.path, ("", None))[0]
                tree_rows[raw.path] = (blob or blob_id(raw.content or b""), facts)
        for path in list(tree_rows):
            if tree_rows[path][1] is None:  # listed but gone, or edited: not learned
                del tree_rows[path]
                self.unread.add(path)
        self.unread.update(p for p in edited if p not in tree_rows)
        rows = Rows()
        for path in sorted(tree_rows):
            blob, facts = tree_rows[path]
            assert facts is not None
            rows.paths.append(path)
            rows.blobs.append(blob)
            rows.facts.append(facts)
        self.rows[folder] = rows
        current = {p: f for p, (_, f) in tree_rows.items() if p not in edited}
        current.update(answered)
        return _facts(folder, ((p, current[p]) for p in sorted(current)))

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


def _facts(folder: str, pairs: Iterable[tuple[str, dict[str, Any] | None]]) -> list[Record]:
    """One folder's facts, the first path of an id only."""
    seen: set[str] = set()
    out: list[Record] = []
    for path, facts in pairs:
        if facts is None:
            continue
        stem = path.rpartition("/")[2].rpartition(".")[0]
        if stem in seen:
            continue
        seen.add(stem)
        out.append(Record(folder, stem, path, facts, whole=False))
    return out
