"""The checker's warm cache written (:mod:`crmfiles.cache` is its storage): the snapshot
saved after a run, and moved along to an operation's commit by patching the rows it
changed.  Listing a revision against the snapshot is :mod:`crmfiles.cachelisting`'s,
the forked helper of a cold run :mod:`crmfiles.checkhelper`'s.

What the snapshot keeps of each record's facts for the rules is defined once, in
:mod:`crmfiles.rulefacts`: written here, read back by
:class:`~crmfiles.rules.base.Context`.
"""

from __future__ import annotations

import array
import bisect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from crmfiles.cache import Cache, ids_digest, writing
from crmfiles.cachelisting import CATALOG_PREFIX
from crmfiles.cachesnapshot import CheckSnapshot, Found, plus
from crmfiles.diagnostics import Finding
from crmfiles.records import CONFIG_FILE, RECORD_FOLDERS
from crmfiles.rulefacts import kept, rule_facts

if TYPE_CHECKING:
    from crmfiles.rules.base import Context


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
    the offsets of its values moved along in C (see :func:`crmfiles.cachesnapshot.plus`)."""

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
