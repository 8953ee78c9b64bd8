"""The engine: load a revision, run every rule, resolve findings to diagnostics.

Data flows one way: a :class:`~crmfiles.records.sources.Source` gives bytes, the
file-level checks parse them, the record and global rules yield findings, and
:func:`resolve` puts a line, a column and an excerpt on each, composing the YAML only
of the files that have findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from crmfiles.background import keep, later
from crmfiles.cache import (
    Cache,
    blob_id,
    fingerprint,
)
from crmfiles.cachelisting import ids_removed, listing, place_of, roles_changed
from crmfiles.cachework import save, worth_saving
from crmfiles.checkhelper import Helper
from crmfiles.config import Config, parse_config
from crmfiles.diagnostics import Diagnostic, Finding, Severity
from crmfiles.records import (
    CATALOGS,
    CONFIG_FILE,
    OPTIONAL_CATALOGS,
    LoadedFile,
)
from crmfiles.records.catalogs import build_catalogs
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.yamlio import ParseError, compose, parse
from crmfiles.records.yamlspans import Slot, Span, locate, locate_top_level, top_level_slots
from crmfiles.rulefacts import rule_facts
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
    catalog_raw = [raw for raw in listed if place_of(raw.path).kind == "catalog"]
    strays = [raw.path for raw in listed if place_of(raw.path).kind != "catalog"]
    store = Cache.for_repo(source.root) if use_cache else None
    key = fingerprint(
        [(CONFIG_FILE, config_bytes)] + [(raw.path, raw.content) for raw in catalog_raw]
    )
    snapshot = store.load(key) if store is not None else None
    tree = source.tree() if store is not None else None
    listed_now = listing(source, snapshot, tree)
    record_paths, restored, need, blobs = listed_now[:4]
    files: list[LoadedFile] = [load_file(raw, place_of(raw.path)) for raw in catalog_raw]
    ctx = Context(
        config=config,
        files=files,
        record_paths=record_paths,
        source=source,
        snapshot=snapshot if restored else None,
        restored=restored,
    )
    for f in files:
        if f.place.ext_ok:  # catalogs/<name>.yml is reported, not read
            ctx.catalog_paths[f.place.name] = f.path
    ctx.catalogs = build_catalogs((f.path, f.data) for f in files)
    for path in strays:
        ctx.stray_catalogs.append(path)
    read: set[str] = set()
    helper = Helper.start(ctx, source, need, blobs, _checked) if bar else None
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
    added, removed = listed_now.added, listed_now.removed
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
        removed = snapshot is not None and ids_removed(snapshot, record_paths)
    ctx.recheck_all = (
        not restored
        or snapshot is None
        or any(name not in ctx.catalog_paths for name in CATALOGS if name not in OPTIONAL_CATALOGS)
        or removed
        or roles_changed(snapshot, files)
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
        f = load_file(raw, place_of(raw.path))
        f.blob = blobs.get(raw.path) or (blob_id(raw.content) if raw.content is not None else None)
        _check_one(ctx, f)
        yield f


def _check_one(ctx: Context, f: LoadedFile) -> None:
    """The checks of one record that need no other record, right after it is parsed;
    then only what the rules across records need is kept (memory: the parsed data and
    text of 100,000 records would be gigabytes; ``materialize`` reads one again)."""
    f.facts = rule_facts(f.data)
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
        if worth_saving(ctx):
            # written after the answer (see crmfiles.background)
            later(lambda: save(ctx), detach=True)
    else:
        save(ctx)
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
