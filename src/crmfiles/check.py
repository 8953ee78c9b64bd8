"""The engine: load a revision, run every rule, resolve findings to diagnostics.

Data flows one way: a :class:`~crmfiles.records.sources.Source` gives bytes, the
file-level checks parse them, the record and global rules yield findings, and
:func:`resolve` puts a line, a column and an excerpt on each, composing the YAML only
of the files that have findings.
"""

from __future__ import annotations

import array
import bisect
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from crmfiles import git
from crmfiles.background import keep, later
from crmfiles.cache import (
    Cache,
    Found,
    PathColumn,
    Snapshot,
    blob_id,
    fingerprint,
    ids_digest,
    plus,
    writing,
)
from crmfiles.config import Config, parse_config
from crmfiles.diagnostics import Diagnostic, Finding, Severity
from crmfiles.records import (
    CATALOG_DIR,
    CATALOGS,
    CONFIG_FILE,
    FACT_KEYS,
    OPTIONAL_CATALOGS,
    RECORD_FOLDERS,
    LoadedFile,
    Place,
    classify,
    name_key,
)
from crmfiles.records.sources import TOP_LEVEL, RawFile, Source
from crmfiles.records.yamlio import (
    ParseError,
    Slot,
    Span,
    compose,
    locate,
    locate_top_level,
    parse,
    top_level_slots,
)
from crmfiles.rules.base import Context
from crmfiles.rules.files import load_file
from crmfiles.rules.registry import check_levels, level
from crmfiles.rules.suite import COLLECTIVE_RULES, ID_RULE_IDS, RECORD_RULES, run_dependent
from crmfiles.runtime import Runtime


@dataclass
class Report:
    diagnostics: list[Diagnostic]
    files: int
    context: Context | None = None

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)


def _place(path: str) -> Place:
    return classify(path) or Place("record", path.split("/")[0], path)


def _facts(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    facts = {key: data[key] for key in FACT_KEYS if key in data}
    name = facts.get("name")
    if isinstance(name, str):  # how names compare: case and spacing do not count
        facts["name_key"] = name_key(name)
    return facts or None


class Restored:
    """The files a warm run takes from the cache: the snapshot's paths less those that
    changed; ``restored[path]`` is a file's blob id."""

    def __init__(self, snapshot: Snapshot | None, excluded: set[str]) -> None:
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


def _listing(source: Source, snapshot: Snapshot | None, tree: str | None) -> Listing:
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
        reread = {
            p
            for p in (*snapshot.dirty, *source.dirty())
            if p != CONFIG_FILE and not p.startswith(CATALOG_PREFIX)
        }
        for path in reread:
            changed[path] = None
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


def load(
    source: Source, config: Config | None = None, *, use_cache: bool = True, bar: bool = False
) -> Context:
    """Read every file of the revision, parsing only those the cache does not know,
    and index ids and catalogs."""
    if use_cache:
        source.prefetch()
        Cache.prefetch(source.root)  # read on a thread while git answers
    listed = source.catalog_files()
    config_bytes = source.read_config()
    if config is None:
        config = parse_config(config_bytes)
    check_levels(config)
    catalog_raw = [raw for raw in listed if _place(raw.path).kind == "catalog"]
    strays = [raw.path for raw in listed if _place(raw.path).kind != "catalog"]
    store = Cache.for_repo(source.root) if use_cache else None
    key = fingerprint(
        [(CONFIG_FILE, config_bytes)] + [(raw.path, raw.content) for raw in catalog_raw]
    )
    snapshot = store.load(key) if store is not None else None
    tree = source.tree() if store is not None else None
    listing = _listing(source, snapshot, tree)
    record_paths, restored, need, blobs = listing[:4]
    files: list[LoadedFile] = [load_file(raw, _place(raw.path)) for raw in catalog_raw]
    ctx = Context(
        config=config,
        files=files,
        record_paths=record_paths,
        source=source,
        snapshot=snapshot if restored else None,
        restored=restored,
    )
    for f in files:
        if not f.place.ext_ok:
            continue  # catalogs/<name>.yml is reported, not read
        ctx.catalog_paths[f.place.name] = f.path
        if isinstance(f.data, list):
            ctx.catalogs[f.place.name] = {
                e["id"]: e for e in f.data if isinstance(e, dict) and isinstance(e.get("id"), str)
            }
    for name in OPTIONAL_CATALOGS - set(ctx.catalog_paths):
        ctx.catalogs.setdefault(name, {})
    for path in strays:
        ctx.stray_catalogs.append(path)
    read: set[str] = set()
    helper = _Helper.start(ctx, source, need, blobs) if bar else None
    mine = need[: helper.split] if helper is not None else need
    files_read = source.files_at(mine) if mine else iter(())
    if bar and len(need) > 1000:
        from crmfiles.progress import track

        files_read = track(files_read, "Checking", total=len(mine))
    for f in _checked(ctx, files_read, blobs):
        ctx.add(f)
        read.add(f.path)
    for f in helper.finish() if helper is not None else ():
        ctx.add(f)
        read.add(f.path)
    added, removed = listing.added, listing.removed
    if len(read) != len(need):  # listed but gone (a deleted untracked file): drop it
        gone = set(need) - read
        ctx.record_paths = record_paths = [p for p in record_paths if p not in gone]
        if added is not None and snapshot is not None:
            added -= gone
            removed = removed or any(snapshot.position(p) is not None for p in gone)
    same_paths = snapshot is not None and record_paths is snapshot.paths
    ctx.ids_key = snapshot.ids if same_paths and snapshot else None
    ctx.added = added if snapshot is not None and restored else None
    if removed is None:
        removed = snapshot is not None and _ids_removed(snapshot, record_paths)
    ctx.recheck_all = (
        not restored
        or snapshot is None
        or any(name not in ctx.catalog_paths for name in CATALOGS if name not in OPTIONAL_CATALOGS)
        or removed
        or _roles_changed(snapshot, files)
    )
    ctx.cache = store
    ctx.cache_key = key
    ctx.tree = tree
    ctx.outside_tree = {path for path, blob in blobs.items() if blob is None}
    if store is not None:
        ctx.cold = store.load_cold
    if snapshot is not None and restored:
        for path, had in snapshot.found.items():
            restored_file = ctx.file(path) if path in restored else None
            # a restored file with findings: they are reported again, and those that
            # depend on ids are checked again (an id it missed may exist now)
            if restored_file is not None and any(x.rule in ID_RULE_IDS for x in had.findings):
                ctx.rescan.append(restored_file)
    return ctx


def _checked(
    ctx: Context, raws: Iterable[RawFile], blobs: dict[str, str | None]
) -> Iterator[LoadedFile]:
    for raw in raws:
        f = load_file(raw, _place(raw.path))
        f.blob = blobs.get(raw.path) or (blob_id(raw.content) if raw.content is not None else None)
        _check_one(ctx, f)
        yield f


class _Helper:
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
        split: int,
        pid: int,
        fd: int,
    ) -> None:
        self.ctx, self.source, self.need, self.blobs = ctx, source, need, blobs
        self.split, self.pid, self.fd = split, pid, fd

    @classmethod
    def start(
        cls, ctx: Context, source: Source, need: list[str], blobs: dict[str, str | None]
    ) -> _Helper | None:
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
                    for f in _checked(ctx, source.files_at(need[split:]), blobs)
                ]  # (tuples: half the time of pickling the objects, and of unpickling)
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump(rows, out, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(ctx, source, need, blobs, split, pid, read_end)

    def finish(self) -> list[LoadedFile]:
        with os.fdopen(self.fd, "rb") as handle:
            data = handle.read()
        _, status = os.waitpid(self.pid, 0)
        if status == 0 and data:
            try:
                rows = pickle.loads(data)
                return [
                    LoadedFile(
                        path, _place(path), blob, text, None, ok, found, refs, facts, True, gone
                    )
                    for path, blob, text, ok, found, refs, facts, gone in rows
                ]
            except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
                pass
        return list(_checked(self.ctx, self.source.files_at(self.need[self.split :]), self.blobs))


def _check_one(ctx: Context, f: LoadedFile) -> None:
    """The checks of one record that need no other record, right after it is parsed;
    then only what the rules across records need is kept (memory: the parsed data and
    text of 100,000 records would be gigabytes; ``materialize`` reads one again)."""
    f.facts = _facts(f.data)
    rules = RECORD_RULES.get(f.place.name) if f.place.kind == "record" else None
    if rules and isinstance(f.data, dict):
        for rule in rules:
            f.findings.extend(rule(ctx, f))
    if f.place.kind == "record" and f.data is not None:
        ctx.refs_of(f)
        f.data = None
        f.released = True
        if not f.findings:
            f.text = None


def _ids_removed(snapshot: Snapshot, record_paths: Sequence[str]) -> bool:
    """Whether a record of the snapshot is gone (a reference to it may now dangle)."""
    if record_paths is snapshot.paths:
        return False
    current = set(record_paths)
    return any(path not in current for path in snapshot.paths)


def _roles_changed(snapshot: Snapshot, files: list[LoadedFile]) -> bool:
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


def run_rules(ctx: Context) -> list[Finding]:
    """Every rule.  Findings about one file are kept on it (``f.findings``, so the
    cache can store them); the collective ones are returned."""
    if ctx.recheck_all:
        for f in ctx.all_files():
            if not f.fresh:
                f.findings = [x for x in f.findings if x.rule not in ID_RULE_IDS]
    else:
        ctx.materialize(ctx.rescan)
        for f in ctx.rescan:
            f.findings = [x for x in f.findings if x.rule not in ID_RULE_IDS]
    run_dependent(ctx)
    collective: list[Finding] = []
    for collective_rule in COLLECTIVE_RULES:
        collective.extend(collective_rule(ctx))
    ctx.collective = collective
    _release(ctx)
    return collective


def _release(ctx: Context) -> None:
    """Drop again what the rules read back (see ``_check_one``)."""
    for f in ctx.files:
        if f.place.kind == "record" and f.data is not None:
            f.data = None
            f.released = True
            if not f.findings:
                f.text = None


def locate_all(findings: Iterable[Finding], texts: dict[str, str | None]) -> list[Finding]:
    """Put a line and column on every finding, composing each file's YAML at most once
    and only for findings that point into it."""
    out: list[Finding] = []
    roots: dict[str, Any] = {}
    lines: dict[str, dict[str, Slot] | None] = {}
    for finding in findings:
        if finding.line is not None:
            out.append(finding)
            continue
        text = texts.get(finding.path)
        span = None
        if text is not None and len(finding.pointer) == 1 and finding.path not in roots:
            if finding.path not in lines:  # a top-level field: found on its line
                try:
                    lines[finding.path] = top_level_slots(text, parse(text))
                except ParseError:
                    lines[finding.path] = None
            slots = lines[finding.path]
            if slots is not None:
                span = locate_top_level(slots, text, finding.pointer, finding.at_key)
        if span is not None:
            out.append(_located(finding, span))
            continue
        if finding.path not in roots:
            try:
                roots[finding.path] = compose(text) if text is not None else None
            except Exception:
                roots[finding.path] = None
        out.append(_located(finding, locate(roots[finding.path], finding.pointer, finding.at_key)))
    return out


def _located(finding: Finding, span: Span) -> Finding:
    return replace(
        finding,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
    )


def to_diagnostics(
    findings: Iterable[Finding], config: Config, texts: dict[str, str | None]
) -> list[Diagnostic]:
    """Severity from crm.yaml and an excerpt from the text, for located findings."""
    lines: dict[str, list[str]] = {}
    out: list[Diagnostic] = []
    for finding in findings:
        severity = level(config, finding.rule)
        if severity == "off":
            continue
        if finding.path not in lines:
            text = texts.get(finding.path)
            lines[finding.path] = text.splitlines() if text is not None else []
        line = finding.line or 1
        out.append(
            Diagnostic(
                path=finding.path,
                line=line,
                column=finding.column or 1,
                severity=Severity(severity),
                rule=finding.rule,
                message=finding.message,
                hint=finding.hint,
                end_line=finding.end_line,
                end_column=finding.end_column,
                record=finding.record,
                excerpt=_excerpt(lines[finding.path], line),
            )
        )
    out.sort(key=Diagnostic.sort_key)
    return out


def resolve(
    findings: Iterable[Finding], ctx: Context, texts: dict[str, str] | None = None
) -> list[Diagnostic]:
    """Line, column, severity and excerpt for findings about ``ctx``'s revision (or
    about the ``texts`` given, which take precedence)."""
    findings = list(findings)
    sources: dict[str, str | None] = dict(texts or {})
    for finding in findings:
        if finding.path not in sources:
            owner = ctx.by_path(finding.path)
            if owner is not None and owner.text is None and (not owner.fresh or owner.released):
                ctx.materialize([owner])
            sources[finding.path] = owner.text if owner is not None else None
    return to_diagnostics(locate_all(findings, sources), ctx.config, sources)


def _excerpt(lines: list[str], line: int) -> tuple[tuple[int, str], ...]:
    if not lines or line < 1 or line > len(lines):
        return ()
    first = max(1, line - 1)
    return tuple((n, lines[n - 1][:200]) for n in range(first, line + 1))


def check(
    source: Source,
    config: Config | None = None,
    only: Sequence[str] | None = None,
    *,
    use_cache: bool = True,
    bar: bool = False,
    runtime: Runtime | None = None,
) -> Report:
    """Every one-revision check of ``source``; ``only`` limits what is reported (not
    what is read: references need the whole revision) to these paths or folders.
    ``runtime``: how crm runs (the command line shows a bar, and writes the cache
    after the answer)."""
    detach = runtime is not None and runtime.detach
    ctx = load(
        source, config, use_cache=use_cache, bar=bar or (runtime is not None and runtime.bar)
    )
    collective = run_rules(ctx)
    texts: dict[str, str | None] = {}
    for f in ctx.files:
        if not f.findings:
            continue
        if any(x.line is None for x in f.findings):
            if f.text is None and (not f.fresh or f.released):
                ctx.materialize([f])  # a restored file with a new finding: read it now
            texts[f.path] = f.text
            f.findings = locate_all(f.findings, texts)
        texts[f.path] = f.text
    if detach:
        keep(ctx)
        if _worth_saving(ctx):
            # written after the answer (see crmfiles.background)
            later(lambda: _save(ctx), detach=True)
    else:
        _save(ctx)
    located = [x for f in ctx.files for x in f.findings]
    collective = resolve_texts(collective, ctx, texts)
    findings = located + collective
    if only:
        prefixes = [p.rstrip("/") for p in only]

        def wanted(path: str) -> bool:
            return any(path == p or path.startswith(p + "/") for p in prefixes)

        findings = [f for f in findings if wanted(f.path) or any(map(wanted, f.related))]
        count = sum(1 for p in [*ctx.catalog_paths.values(), *ctx.record_paths] if wanted(p))
    else:
        count = len(ctx.record_paths) + len(ctx.catalog_paths) + 1
    return Report(to_diagnostics(findings, ctx.config, texts), count, ctx)


def resolve_texts(
    findings: list[Finding], ctx: Context, texts: dict[str, str | None]
) -> list[Finding]:
    for finding in findings:
        if finding.path not in texts:
            owner = ctx.by_path(finding.path)
            if owner is not None and owner.text is None and (not owner.fresh or owner.released):
                ctx.materialize([owner])
            texts[finding.path] = owner.text if owner is not None else None
    return locate_all(findings, texts)


SAVE_THRESHOLD = 100  # fewer freshly parsed files than this: not worth rewriting the cache


def _save(ctx: Context) -> None:
    """Keep what this run learned, when it learned enough to be worth the write
    (holding the cache's lock: see :func:`crmfiles.cache.writing`)."""
    store = ctx.cache
    if store is None or not _worth_saving(ctx):
        return
    with writing(store.dir):
        _write_snapshot(ctx, store)


def _worth_saving(ctx: Context) -> bool:
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
                facts, refs = _facts(f.data), ctx.refs_of(f) if f.data is not None else []
        paths.append(f.path)
        blobs.append(f.blob)
        if f.findings:
            found[f.path] = Found(tuple(f.findings), f.text)
        cold[f.path] = (f.blob, refs, facts)
        facts = facts or {}
        key = facts.get("name_key") if f.place.name == "opportunities" else None
        name_keys.append(key if isinstance(key, str) else "")
        money = facts.get("currency")
        currency.append(money if isinstance(money, str) else "")
        link = {"quotes": "opportunity", "orders": "quote", "invoices": "order"}.get(f.place.name)
        if link and isinstance(facts.get(link), str):
            links[f.path] = facts[link]
    # also the paths the listing saw outside the tree but could not read (deleted in
    # the work tree): another source (the index) may still hold them
    dirty = sorted({*dirty, *ctx.outside_tree})
    snapshot = Snapshot(
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
    snapshot.roles = {
        path: facts["roles"]
        for path, (_, _, facts) in cold.items()
        if path.startswith("partners/") and facts and isinstance(facts.get("roles"), list)
    }
    snapshot.partner_names = {
        path: facts["name_key"]
        for path, (_, _, facts) in cold.items()
        if path.startswith("partners/") and facts and isinstance(facts.get("name_key"), str)
    }
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


def _patched(ctx: Context, snapshot: Snapshot, tree: str, blobs: dict[str, str]) -> Snapshot:
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
        facts = f.facts or {}
        key = facts.get("name_key") if f.place.name == "opportunities" else None
        money = facts.get("currency")
        rows[path] = (
            blob,
            key if isinstance(key, str) else "",
            money if isinstance(money, str) else "",
        )
        link = {"quotes": "opportunity", "orders": "quote", "invoices": "order"}.get(f.place.name)
        if link and isinstance(facts.get(link), str):
            links[path] = facts[link]
        if f.place.name == "partners" and isinstance(facts.get("roles"), list):
            roles[path] = facts["roles"]
        if f.place.name == "partners" and isinstance(facts.get("name_key"), str):
            partner_names[path] = facts["name_key"]
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
    patched = Snapshot(
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
