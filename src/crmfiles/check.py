"""The engine: load a revision, run every rule, resolve findings to diagnostics.

Data flows one way: a :class:`~crmfiles.records.sources.Source` gives bytes, the
file-level checks parse them, the record and global rules yield findings, and
:func:`resolve` puts a line, a column and an excerpt on each, composing the YAML only
of the files that have findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from crmfiles.cache import Cache, blob_id, fingerprint, ids_digest
from crmfiles.cache import Entry as CacheEntry
from crmfiles.config import Config, parse_config
from crmfiles.diagnostics import Diagnostic, Finding, Severity
from crmfiles.records import (
    CATALOG_DIR,
    CATALOGS,
    CONFIG_FILE,
    FACT_KEYS,
    RECORD_FOLDERS,
    LoadedFile,
    Place,
    classify,
)
from crmfiles.records.sources import Source
from crmfiles.records.yamlio import compose, locate
from crmfiles.rules.base import Context
from crmfiles.rules.files import load_file
from crmfiles.rules.suite import COLLECTIVE_RULES, ID_RULE_IDS, ID_RULES, RECORD_RULES


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
    return {key: data[key] for key in FACT_KEYS if key in data} or None


def load(source: Source, config: Config | None = None, *, use_cache: bool = True) -> Context:
    """Read every file of the revision, parsing only those the cache does not know,
    and index ids and catalogs."""
    config_bytes = source.read(CONFIG_FILE)
    if config is None:
        config = parse_config(config_bytes)
    entries = [e for e in source.entries() if e.path != CONFIG_FILE]
    catalog_paths = [e.path for e in entries if _place(e.path).kind == "catalog"]
    catalog_raw = {raw.path: raw for raw in source.files_at(catalog_paths)}
    store = Cache.for_repo(source.root) if use_cache else None
    key = fingerprint(
        [(CONFIG_FILE, config_bytes)]
        + [(p, catalog_raw[p].content if p in catalog_raw else None) for p in catalog_paths]
    )
    stored, stored_ids = store.load(key) if store is not None else ({}, None)
    need = [
        e.path
        for e in entries
        if e.path not in catalog_raw and not _hit(stored.get(e.path), e.blob)
    ]
    fresh_raw = {raw.path: raw for raw in source.files_at(need)} if need else {}
    files: list[LoadedFile] = []
    for e in entries:
        place = _place(e.path)
        raw = catalog_raw.get(e.path) or fresh_raw.get(e.path)
        if raw is None:
            cached = stored.get(e.path)
            if cached is None or not _hit(cached, e.blob):
                continue  # vanished between listing and reading
            files.append(
                LoadedFile(
                    path=e.path,
                    place=place,
                    blob=e.blob,
                    text=cached.text,
                    ok=cached.ok,
                    findings=list(cached.findings),
                    facts=cached.facts,
                    fresh=False,
                )
            )
            continue
        f = load_file(raw, place)
        f.blob = e.blob or (blob_id(raw.content) if raw.content is not None else None)
        f.facts = _facts(f.data)
        files.append(f)
    ctx = Context(config=config, files=files, source=source)
    record_paths = []
    for f in files:
        if f.place.kind == "catalog":
            ctx.catalog_paths[f.place.name] = f.path
            if isinstance(f.data, list):
                ctx.catalogs[f.place.name] = {
                    e["id"]: e
                    for e in f.data
                    if isinstance(e, dict) and isinstance(e.get("id"), str)
                }
        elif f.place.kind == "record":
            record_paths.append(f.path)
            ctx.ids.setdefault(f.place.name, {}).setdefault(f.place.id, f.path)
    for folder in RECORD_FOLDERS:
        ctx.ids.setdefault(folder, {})
    ctx.ids_key = ids_digest(record_paths)
    ctx.recheck_all = (
        not stored
        or stored_ids != ctx.ids_key
        or any(f.fresh and f.place.name == "partners" for f in files if f.place.kind == "record")
    )
    ctx.cache = store
    ctx.cache_key = key
    if store is not None:
        ctx.stored_refs = store.load_refs
    return ctx


def _hit(cached: CacheEntry | None, blob: str | None) -> bool:
    return cached is not None and blob is not None and cached.blob == blob


def run_rules(ctx: Context) -> list[Finding]:
    """Every rule.  Findings about one file are kept on it (``f.findings``, so the
    cache can store them); the collective ones are returned."""
    for f in ctx.files:
        if f.fresh:
            rules = RECORD_RULES.get(f.place.name) if f.place.kind == "record" else None
            if rules and isinstance(f.data, dict):
                for rule in rules:
                    f.findings.extend(rule(ctx, f))
        elif ctx.recheck_all:
            f.findings = [x for x in f.findings if x.rule not in ID_RULE_IDS]
    for id_rule in ID_RULES:
        for finding in id_rule(ctx):
            owner = ctx.by_path(finding.path)
            if owner is not None:
                owner.findings.append(finding)
    collective: list[Finding] = []
    for collective_rule in COLLECTIVE_RULES:
        collective.extend(collective_rule(ctx))
    collective.extend(_missing_catalogs(ctx))
    return collective


def _missing_catalogs(ctx: Context) -> Iterable[Finding]:
    """A catalog file that does not exist is one diagnostic, not one per reference."""
    wanted: dict[str, int] = defaultdict(int)
    missing = {name for name in CATALOGS if name not in ctx.catalog_paths}
    if not missing:
        return
    for f in ctx.files:
        if f.place.kind == "record" and not (f.fresh and f.data is None):
            for _, target, _ in ctx.refs_of(f):
                if target in missing:
                    wanted[target] += 1
    for name, count in sorted(wanted.items()):
        yield Finding(
            "unknown-reference",
            CONFIG_FILE,
            f"{CATALOG_DIR}/{name}.yaml is missing, and {count} reference"
            f"{'s' if count != 1 else ''} need it",
            line=1,
            column=1,
            hint=f"create {CATALOG_DIR}/{name}.yaml (`crm init` writes a default)",
        )


def locate_all(findings: Iterable[Finding], texts: dict[str, str | None]) -> list[Finding]:
    """Put a line and column on every finding, composing each file's YAML at most once
    and only for findings that point into it."""
    out: list[Finding] = []
    roots: dict[str, Any] = {}
    for finding in findings:
        if finding.line is not None:
            out.append(finding)
            continue
        if finding.path not in roots:
            text = texts.get(finding.path)
            try:
                roots[finding.path] = compose(text) if text is not None else None
            except Exception:
                roots[finding.path] = None
        span = locate(roots[finding.path], finding.pointer, finding.at_key)
        out.append(
            replace(
                finding,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
            )
        )
    return out


def to_diagnostics(
    findings: Iterable[Finding], config: Config, texts: dict[str, str | None]
) -> list[Diagnostic]:
    """Severity from crm.yaml and an excerpt from the text, for located findings."""
    lines: dict[str, list[str]] = {}
    out: list[Diagnostic] = []
    for finding in findings:
        level = config.level(finding.rule)
        if level == "off":
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
                severity=Severity(level),
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
            if owner is not None and owner.text is None and not owner.fresh:
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
) -> Report:
    """Every one-revision check of ``source``; ``only`` limits what is reported (not
    what is read: references need the whole revision) to these paths or folders."""
    ctx = load(source, config, use_cache=use_cache)
    collective = run_rules(ctx)
    texts: dict[str, str | None] = {f.path: f.text for f in ctx.files if f.findings}
    for f in ctx.files:
        if f.findings and f.fresh:
            f.findings = locate_all(f.findings, texts)
    _save(ctx)
    located = [x for f in ctx.files for x in f.findings]
    collective = resolve_texts(collective, ctx, texts)
    findings = located + collective
    if only:
        prefixes = [p.rstrip("/") for p in only]

        def wanted(path: str) -> bool:
            return any(path == p or path.startswith(p + "/") for p in prefixes)

        findings = [f for f in findings if wanted(f.path)]
        count = sum(1 for f in ctx.files if wanted(f.path))
    else:
        count = len(ctx.files) + 1
    return Report(to_diagnostics(findings, ctx.config, texts), count, ctx)


def resolve_texts(
    findings: list[Finding], ctx: Context, texts: dict[str, str | None]
) -> list[Finding]:
    for finding in findings:
        if finding.path not in texts:
            owner = ctx.by_path(finding.path)
            if owner is not None and owner.text is None and not owner.fresh:
                ctx.materialize([owner])
            texts[finding.path] = owner.text if owner is not None else None
    return locate_all(findings, texts)


SAVE_THRESHOLD = 100  # fewer freshly parsed files than this: not worth rewriting the cache


def _save(ctx: Context) -> None:
    """Keep what this run learned, when it learned enough to be worth the write."""
    store = ctx.cache
    if store is None:
        return
    fresh = [f for f in ctx.files if f.fresh and f.place.kind == "record"]
    restored = any(not f.fresh for f in ctx.files)
    if not fresh or (restored and len(fresh) < SAVE_THRESHOLD):
        return
    entries: dict[str, CacheEntry] = {}
    refs: dict[str, tuple[str, list[Any]]] = {}
    stored_refs: dict[str, tuple[str, list[Any]]] | None = None
    for f in ctx.files:
        if f.place.kind != "record" or f.blob is None:
            continue
        if f.fresh and f.data is None and not f.findings:
            continue
        findings = tuple(f.findings)
        entries[f.path] = CacheEntry(f.blob, f.ok, findings, f.facts, f.text if findings else None)
        if f.refs is None and not f.fresh:
            if stored_refs is None:
                stored_refs = store.load_refs()
            blob, old = stored_refs.get(f.path, (None, None))
            if blob == f.blob and old is not None:
                refs[f.path] = (f.blob, old)
                continue
        refs[f.path] = (f.blob, ctx.refs_of(f) if f.data is not None or not f.fresh else [])
    store.save(ctx.cache_key or "", ctx.ids_key or "", entries, refs)
