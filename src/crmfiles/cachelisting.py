"""A revision listed against the warm cache's stored snapshot: which record files a
run takes from the cache (:class:`Restored`) and which it must read, where only what
git says changed since the snapshot's tree is looked at (``git diff-tree``, the work
tree's edits); and, after the read, whether what changed calls for more checking
(:func:`ids_removed`, :func:`roles_changed`).

Apart from :mod:`crmfiles.cachework`, which writes the snapshot after a run and moves
it along to an operation's commit: this is the reading side, what a warm run starts
from.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import NamedTuple

from crmfiles import git
from crmfiles.cachesnapshot import CheckSnapshot, PathColumn
from crmfiles.records import (
    CATALOG_DIR,
    CONFIG_FILE,
    LoadedFile,
    Place,
    classify,
)
from crmfiles.records.sources import TOP_LEVEL, Source
from crmfiles.records.worktree import WorkTree


def place_of(path: str) -> Place:
    return classify(path) or Place("record", path.split("/")[0], path)


class Restored:
    """The files a warm run takes from the cache: the snapshot's paths less those that
    changed; ``restored[path]`` is a file's blob id."""

    def __init__(self, snapshot: CheckSnapshot | None, excluded: set[str]) -> None:
        self.snapshot = snapshot
        self.excluded = excluded

    def _where(self, path: str) -> int | None:
        if self.snapshot is None or path in self.excluded:
            return None
        return self.snapshot.position(path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._where(path) is not None

    def __getitem__(self, path: str) -> str:
        where = self._where(path)
        if where is None or self.snapshot is None:
            raise KeyError(path)
        return self.snapshot.blob(where)

    def get(self, path: str, default: str | None = None) -> str | None:
        where = self._where(path)
        return default if where is None or self.snapshot is None else self.snapshot.blob(where)

    def __bool__(self) -> bool:
        return self.snapshot is not None and len(self.snapshot.paths) > len(self.excluded)


class Listing(NamedTuple):
    paths: Sequence[str]  # every record path, sorted
    restored: Restored  # what the cache restores
    need: list[str]  # what must be read
    blobs: dict[str, str | None]  # the blob ids known for the files to read
    # the record paths the snapshot did not have, and whether it had some that are
    # gone now (None: not known, the listing was not taken against the snapshot)
    added: set[str] | None
    removed: bool | None


def listing(source: Source, snapshot: CheckSnapshot | None, tree: str | None) -> Listing:
    """With a snapshot taken from a git tree, only what differs from that tree
    (``git diff-tree``, O(changes)) and the work tree's edits are read."""
    if snapshot is not None and snapshot.tree and tree:
        changed: dict[str, str | None] = {}
        deleted: set[str] = set()
        if snapshot.tree != tree:
            for status, path, mode, blob in git.tree_changes(
                source.root, snapshot.tree, tree, TOP_LEVEL
            ):
                if path == CONFIG_FILE or path.startswith(CATALOG_PREFIX):
                    continue
                if status == "D":
                    deleted.add(path)
                elif _wanted_path(path, mode):
                    changed[path] = blob if mode in ("100644", "100755") else None
        dirty_now = {
            p for p in source.dirty() if p != CONFIG_FILE and not p.startswith(CATALOG_PREFIX)
        }
        for path in dirty_now:
            changed[path] = None
        # read outside the tree last time, the tree's content now (an edit undone, an
        # index refreshed): the tree's blob, so the cache learns the file again
        settled = [p for p in snapshot.dirty if p not in dirty_now and p not in changed]
        if settled:
            changed.update(_index_blobs(source, settled))
        excluded = deleted | set(changed)
        deleted -= set(changed)  # (deleted from the tree, back in the work tree: changed)
        added = sorted(p for p in changed if snapshot.position(p) is None)
        paths: Sequence[str] = snapshot.paths
        if deleted:  # records removed (or added too); when files only changed, it stands
            paths = [p for p in paths if p not in deleted]
            for path in added:
                bisect.insort(paths, path)
        elif added:
            paths = PathColumn.of(paths).inserted(added)
        removed = any(snapshot.position(p) is not None for p in deleted)
        restored = Restored(snapshot, excluded)
        return Listing(paths, restored, sorted(changed), changed, set(added), removed)
    entries = [
        e
        for e in source.entries()
        if e.path != CONFIG_FILE and not e.path.startswith(CATALOG_PREFIX)
    ]
    blobs = {e.path: e.blob for e in entries}
    known = {}
    if snapshot is not None:
        known = {p: snapshot.blob(i) for i, p in enumerate(snapshot.paths)}
    hits = {p for p, b in blobs.items() if b is not None and known.get(p) == b}
    need = [p for p in blobs if p not in hits]
    restored = Restored(snapshot, set(known) - hits) if hits else Restored(None, set())
    return Listing(list(blobs), restored, need, blobs, None, None)


def _wanted_path(path: str, mode: str) -> bool:
    return mode == "120000" or classify(path) is not None


def ids_removed(snapshot: CheckSnapshot, record_paths: Sequence[str]) -> bool:
    """Whether a record of the snapshot is gone (a reference to it may now dangle)."""
    if record_paths is snapshot.paths:
        return False
    current = set(record_paths)
    return any(path not in current for path in snapshot.paths)


def _index_blobs(source: Source, paths: list[str]) -> dict[str, str | None]:
    """The index's blob of each path (None: not in the index, or not a plain file)."""
    if not isinstance(source, WorkTree):
        return dict.fromkeys(paths)
    wanted = set(paths)
    entries = git.ls_files_fast(source.root, paths if len(paths) <= 500 else list(TOP_LEVEL))
    found: dict[str, str | None] = dict.fromkeys(paths)
    for path, mode, blob, stage in entries:
        if path in wanted and stage == "0" and mode in ("100644", "100755"):
            found[path] = blob
    return found


def roles_changed(snapshot: CheckSnapshot, files: list[LoadedFile]) -> bool:
    """Whether a partner that existed may have other roles now (competitor checks): its
    roles differ from the snapshot's, or the snapshot read it outside its tree and
    kept no roles for it.  (A new partner changes nothing the rescan does not cover.)"""
    roles = snapshot.roles or {}
    unknown = set(snapshot.dirty)
    for f in files:
        if not (f.fresh and f.place.kind == "record" and f.place.name == "partners"):
            continue
        if f.path in unknown or (f.path in roles and roles[f.path] != (f.facts or {}).get("roles")):
            return True
    return False


CATALOG_PREFIX = CATALOG_DIR + "/"
