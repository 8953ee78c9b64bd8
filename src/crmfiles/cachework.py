"""The checker's warm cache at work (:mod:`crmfiles.cache` is its storage): listing a
revision against the stored snapshot (only what git says changed is read), the
forked helper that checks half of a cold run's files, writing the snapshot after a
run, and moving it along to an operation's commit by patching the rows it changed.

What the snapshot keeps of each record's facts for the rules is defined once, in
:mod:`crmfiles.rulefacts`: written here, read back by
:class:`~crmfiles.rules.base.Context`.
"""

from __future__ import annotations

import array
import bisect
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from crmfiles import git
from crmfiles.cache import (
    Cache,
    CheckSnapshot,
    Found,
    PathColumn,
    ids_digest,
    plus,
    writing,
)
from crmfiles.diagnostics import Finding
from crmfiles.records import (
    CATALOG_DIR,
    CONFIG_FILE,
    RECORD_FOLDERS,
    LoadedFile,
    Place,
    classify,
)
from crmfiles.records.sources import TOP_LEVEL, RawFile, Source
from crmfiles.records.worktree import WorkTree
from crmfiles.rulefacts import kept, rule_facts

if TYPE_CHECKING:
    from crmfiles.rules.base import Context

Checked = Callable[["Context", Iterable[RawFile], dict[str, "str | None"]], Iterator[LoadedFile]]


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


class Helper:
    """The second half of a cold run's files, parsed and checked in a forked process
    (YAML parsing is CPU work, and a machine has more than one core): the child sends
    back only what the checks keep of each file.  Used from the command line only, where
    no other thread runs; anything amiss and the parent checks that half itself."""

    MIN_FILES = 2000

    def __init__(
        self,
        ctx: Context,
        source: Source,
        need: list[str],
        blobs: dict[str, str | None],
        checked: Checked,
        split: int,
        pid: int,
        fd: int,
    ) -> None:
        self.ctx, self.source, self.need, self.blobs = ctx, source, need, blobs
        self.checked, self.split, self.pid, self.fd = checked, split, pid, fd

    @classmethod
    def start(
        cls,
        ctx: Context,
        source: Source,
        need: list[str],
        blobs: dict[str, str | None],
        checked: Checked,
    ) -> Helper | None:
        """``checked``: the checker's parse-and-check of files, run by both halves."""
        if len(need) < cls.MIN_FILES or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
            return None
        if threading.active_count() > 1:
            return None  # forking a threaded process can deadlock the child
        split = len(need) // 2
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check the second half, send it, and leave at once
            status = 1
            try:
                os.close(read_end)
                rows = [
                    (f.path, f.blob, f.text, f.ok, f.findings, f.refs, f.facts, f.released)
                    for f in checked(ctx, source.files_at(need[split:]), blobs)
                ]  # (tuples: half the time of pickling the objects, and of unpickling)
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump(rows, out, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(ctx, source, need, blobs, checked, split, pid, read_end)

    def finish(self) -> list[LoadedFile]:
        with os.fdopen(self.fd, "rb") as handle:
            data = handle.read()
        _, status = os.waitpid(self.pid, 0)
        if status == 0 and data:
            try:
                rows = pickle.loads(data)
                return [
                    LoadedFile(
                        path, place_of(path), blob, text, None, ok, found, refs, facts, True, gone
                    )
                    for path, blob, text, ok, found, refs, facts, gone in rows
                ]
            except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
                pass
        rest = self.source.files_at(self.need[self.split :])
        return list(self.checked(self.ctx, rest, self.blobs))


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


SAVE_THRESHOLD = 100  # fewer freshly parsed files than this: not worth rewriting the cache


def save(ctx: Context) -> None:
    """Keep what this run learned, when it learned enough to be worth the write
    (holding the cache's lock: see :func:`crmfiles.cache.writing`)."""
    store = ctx.cache
    if store is None or not worth_saving(ctx):
        return
    with writing(store.dir):
        _write_snapshot(ctx, store)


def worth_saving(ctx: Context) -> bool:
    if ctx.cache is None:
        return False
    fresh = sum(1 for f in ctx.files if f.fresh and f.place.kind == "record")
    return bool(fresh) and not (ctx.restored and fresh < SAVE_THRESHOLD)


def _write_snapshot(ctx: Context, store: Cache) -> None:
    files = ctx.all_files()
    old_cold = store.load_cold() if ctx.restored else {}
    cold: dict[str, tuple[str, list[Any], dict[str, Any] | None]] = {}
    paths: list[str] = []
    blobs: list[str] = []
    name_keys: list[str] = []
    currency: list[str] = []
    links: dict[str, str] = {}
    roles: dict[str, list[Any]] = {}
    partner_names: dict[str, str] = {}
    found: dict[str, Found] = {}
    dirty: list[str] = []
    for f in sorted((f for f in files if f.place.kind == "record"), key=lambda f: f.path):
        if f.blob is None or f.path in ctx.outside_tree:
            dirty.append(f.path)  # not the tree's content: read again next time
            continue
        if f.fresh:
            facts = f.facts
            refs = ctx.refs_of(f) if f.data is not None or f.refs is not None else []
        else:
            blob, refs, facts = old_cold.get(f.path, (None, [], None))
            if blob != f.blob:
                ctx.materialize([f])
                facts, refs = rule_facts(f.data), ctx.refs_of(f) if f.data is not None else []
        paths.append(f.path)
        blobs.append(f.blob)
        if f.findings:
            found[f.path] = Found(tuple(f.findings), f.text)
        cold[f.path] = (f.blob, refs, facts)
        row = kept(f.place.name, facts)
        name_keys.append(row.name_key)
        currency.append(row.currency)
        if row.link is not None:
            links[f.path] = row.link
        if row.roles is not None:
            roles[f.path] = row.roles
        if row.partner_name is not None:
            partner_names[f.path] = row.partner_name
    # also the paths the listing saw outside the tree but could not read (deleted in
    # the work tree): another source (the index) may still hold them
    dirty = sorted({*dirty, *ctx.outside_tree})
    snapshot = CheckSnapshot(
        ctx.ids_key or ids_digest(ctx.record_paths),
        ctx.tree,
        paths,
        "".join(blobs),
        "\0".join(name_keys),
        "\0".join(currency),
        links,
        found,
        dirty,
    )
    snapshot.roles = roles
    snapshot.partner_names = partner_names
    snapshot.unique_names = not _has_opportunity_duplicate(ctx.collective)
    snapshot.unique_ids = all(
        len(ctx.ids_of(folder)) == len(ctx.folder_paths(folder)) for folder in RECORD_FOLDERS
    )
    store.save(ctx.cache_key or "", snapshot, cold)


def advanced(ctx: Context, tree: str, blobs: dict[str, str]) -> Callable[[], None] | None:
    """The work that moves the cache's snapshot to ``tree`` by replacing the rows of the
    files this run read, without the full save (which makes an object of every record);
    None when there is none to do.

    For an operation: ``ctx`` checked HEAD with the operation's edits, and exactly that
    was committed as ``tree`` (``blobs``: the edited files' blob ids).  The next command
    then starts from the tree it sees - no ``git diff-tree``, nothing read again -
    instead of from a snapshot that drifts further behind with every commit.  Only a
    warm run that judged ids from the cache qualifies; a cache is never worth an error,
    so anything unexpected leaves the old snapshot in place.

    The caller runs it after its answer (20 MB to write at 100,000 records): see
    :func:`crmfiles.background.later`."""
    store, snapshot = ctx.cache, ctx.snapshot
    if (
        store is None
        or snapshot is None
        or ctx.cache_key is None
        or not ctx.restored
        or ctx.recheck_all
        or any(p == CONFIG_FILE or p.startswith(CATALOG_PREFIX) for p in blobs)
    ):
        return None
    key = ctx.cache_key

    def save() -> None:
        with writing(store.dir):
            store.save_hot(key, _patched(ctx, snapshot, tree, blobs))

    return save


def _patched(
    ctx: Context, snapshot: CheckSnapshot, tree: str, blobs: dict[str, str]
) -> CheckSnapshot:
    """The snapshot with the rows of the files this run read (or found gone) replaced."""
    fresh = {f.path: f for f in ctx.files if f.fresh and f.place.kind == "record"}
    rows: dict[str, tuple[str, str, str] | None] = {}  # path -> (blob, name key, currency)
    dirty: set[str] = set()
    links, found = dict(snapshot.links), dict(snapshot.found)
    roles = dict(snapshot.roles or {})
    partner_names = dict(snapshot.partner_names or {})
    for path in ctx.restored.excluded | set(fresh):
        f = fresh.get(path)
        links.pop(path, None)
        found.pop(path, None)
        roles.pop(path, None)
        partner_names.pop(path, None)
        blob = blobs.get(path) or (None if f is None or path in ctx.outside_tree else f.blob)
        if f is None or blob is None:
            rows[path] = None  # gone, or not the tree's content: read again next time
            if f is not None:
                dirty.add(path)
            continue
        facts = kept(f.place.name, f.facts)
        rows[path] = (blob, facts.name_key, facts.currency)
        if facts.link is not None:
            links[path] = facts.link
        if facts.roles is not None:
            roles[path] = facts.roles
        if facts.partner_name is not None:
            partner_names[path] = facts.partner_name
    for f in ctx.files:  # findings of every record this run looked at (restored ones too)
        if f.place.kind == "record" and f.path not in dirty and rows.get(f.path, True):
            if f.findings:
                found[f.path] = Found(tuple(f.findings), f.text)
            else:
                found.pop(f.path, None)
    old, n = snapshot.paths, len(snapshot.paths)
    # the same paths (files changed, none added or removed): the path column and the
    # ids stand, and only the changed rows of the other columns are spliced in
    same = all(row is not None and snapshot.position(p) is not None for p, row in rows.items())
    paths: list[str] = []
    columns = {
        "name_keys": _Spliced(snapshot.name_keys_text, snapshot.starts("name_keys")),
        "currency": _Spliced(snapshot.currency_text, snapshot.starts("currency")),
    }
    blob_parts: list[str] = []

    def copy(i: int, j: int) -> None:
        if i < j:
            if not same:
                paths.extend(old[i:j])
            blob_parts.append(snapshot.blobs[40 * i : 40 * j])
            for column in columns.values():
                column.copy(i, j)

    i = 0
    for path in sorted(rows):
        j = bisect.bisect_left(old, path, i)
        copy(i, j)
        row = rows[path]
        if row is not None:
            paths.append(path)
            blob_parts.append(row[0])
            columns["name_keys"].add(row[1])
            columns["currency"].add(row[2])
        i = j + 1 if j < n and old[j] == path else j
    copy(i, n)
    patched = CheckSnapshot(
        snapshot.ids if same else ids_digest(paths),
        tree,
        old if same else paths,
        "".join(blob_parts),
        columns["name_keys"].text(),
        columns["currency"].text(),
        links,
        found,
        sorted({*snapshot.dirty, *dirty} - set(rows) | dirty),
        snapshot.unique_ids and not _has(ctx, "duplicate-id"),
        roles,
        snapshot.unique_names
        and not _has_opportunity_duplicate(
            [*ctx.collective, *(x for f in ctx.files for x in f.findings)]
        ),
        {name: column.offsets() for name, column in columns.items()},
        partner_names,
    )
    if len(patched.blobs) != 40 * len(patched.paths):
        raise ValueError("a blob id of the wrong length")
    return patched


class _Spliced:
    """A NUL-separated column rebuilt from runs of the old one and new values, with
    the offsets of its values moved along in C (see :func:`crmfiles.cache.plus`)."""

    def __init__(self, text: str, starts: array.array[int]) -> None:
        self._old = text + "\0" if len(starts) > 1 else ""  # each value, then a NUL
        self._raw = starts.tobytes()
        self._starts = starts
        self._parts: list[str] = []
        self._offsets: list[bytes] = []
        self._size = 0

    def copy(self, i: int, j: int) -> None:
        """Values ``i`` to ``j - 1`` of the old column."""
        at = self._starts
        self._parts.append(self._old[at[i] : at[j]])
        self._offsets.append(plus(self._raw[4 * i : 4 * j], self._size - at[i]))
        self._size += at[j] - at[i]

    def add(self, value: str) -> None:
        self._offsets.append(array.array("I", [self._size]).tobytes())
        self._parts.append(value + "\0")
        self._size += len(value) + 1

    def text(self) -> str:
        return "".join(self._parts)[:-1]

    def offsets(self) -> bytes:
        return b"".join(self._offsets) + array.array("I", [self._size]).tobytes()


def _has(ctx: Context, rule: str) -> bool:
    return any(x.rule == rule for x in ctx.collective) or any(
        x.rule == rule for f in ctx.files for x in f.findings
    )


def _has_opportunity_duplicate(findings: Iterable[Finding]) -> bool:
    """Whether two opportunities share a name (partners' names are the partner dict's
    to compare, and do not spoil the opportunities' fast path)."""
    return any(x.rule == "duplicate-name" and x.path.startswith("opportunities/") for x in findings)
