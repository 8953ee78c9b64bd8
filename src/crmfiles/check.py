"""The engine: load a revision, run every rule, resolve findings to diagnostics.

Data flows one way: a :class:`~crmfiles.records.sources.Source` gives bytes, the
file-level checks parse them, the record and global rules yield findings, and
:func:`resolve` puts a line, a column and an excerpt on each, composing the YAML only
of the files that have findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crmfiles.config import Config, parse_config
from crmfiles.diagnostics import Diagnostic, Finding, Severity
from crmfiles.records import CATALOG_DIR, CATALOGS, CONFIG_FILE, LoadedFile, Place, classify
from crmfiles.records.sources import Source
from crmfiles.records.yamlio import compose, locate
from crmfiles.rules.base import Context
from crmfiles.rules.files import load_file
from crmfiles.rules.suite import GLOBAL_RULES, RECORD_RULES


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


def load(source: Source, config: Config | None = None) -> Context:
    """Read and parse every file of the revision, and index ids and catalogs."""
    if config is None:
        config = parse_config(source.read(CONFIG_FILE))
    files: list[LoadedFile] = []
    for raw in source.files():
        if raw.path == CONFIG_FILE:
            continue
        place = classify(raw.path) or Place("record", raw.path.split("/")[0], raw.path)
        files.append(load_file(raw, place))
    ctx = Context(config=config, files=files)
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
            ctx.ids.setdefault(f.place.name, {}).setdefault(f.place.id, f.path)
    for folder in RECORD_RULES:
        ctx.ids.setdefault(folder, {})
    for folder in ("partners", "contacts", "leads", "views"):
        ctx.ids.setdefault(folder, {})
    return ctx


def run_rules(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for f in ctx.files:
        findings.extend(f.findings)
        rules = RECORD_RULES.get(f.place.name) if f.place.kind == "record" else None
        if rules and isinstance(f.data, dict):
            for rule in rules:
                findings.extend(rule(ctx, f))
    for global_rule in GLOBAL_RULES:
        findings.extend(global_rule(ctx))
    findings.extend(_missing_catalogs(ctx))
    return findings


def _missing_catalogs(ctx: Context) -> Iterable[Finding]:
    """A catalog file that does not exist is one diagnostic, not one per reference."""
    from crmfiles.rules.files import schema_name
    from crmfiles.schema import extract_refs

    wanted: dict[str, int] = defaultdict(int)
    missing = {name for name in CATALOGS if name not in ctx.catalog_paths}
    if not missing:
        return
    for f in ctx.files:
        if f.place.kind == "record" and isinstance(f.data, dict):
            for _, target, _ in extract_refs(schema_name(f.place), f.data):
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


def resolve(
    findings: Iterable[Finding], ctx: Context, texts: dict[str, str] | None = None
) -> list[Diagnostic]:
    """Severity from crm.yaml, line and column from the YAML, excerpt from the text."""
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    sources = texts or {}
    for f in ctx.files:
        if f.path in by_path and f.text is not None:
            sources.setdefault(f.path, f.text)
    out: list[Diagnostic] = []
    for path, group in by_path.items():
        text = sources.get(path)
        root: Any = None
        composed = False
        lines = text.splitlines() if text is not None else []
        for finding in group:
            level = ctx.config.level(finding.rule)
            if level == "off":
                continue
            line, column = finding.line, finding.column
            end_line, end_column = finding.end_line, finding.end_column
            if line is None:
                if not composed and text is not None:
                    composed = True
                    try:
                        root = compose(text)
                    except Exception:
                        root = None
                span = locate(root, finding.pointer, finding.at_key)
                line, column, end_line, end_column = (
                    span.line,
                    span.column,
                    span.end_line,
                    span.end_column,
                )
            out.append(
                Diagnostic(
                    path=path,
                    line=line,
                    column=column or 1,
                    severity=Severity(level),
                    rule=finding.rule,
                    message=finding.message,
                    hint=finding.hint,
                    end_line=end_line,
                    end_column=end_column,
                    record=finding.record,
                    excerpt=_excerpt(lines, line),
                )
            )
    out.sort(key=Diagnostic.sort_key)
    return out


def _excerpt(lines: list[str], line: int) -> tuple[tuple[int, str], ...]:
    if not lines or line < 1 or line > len(lines):
        return ()
    first = max(1, line - 1)
    return tuple((n, lines[n - 1][:200]) for n in range(first, line + 1))


def check(
    source: Source, config: Config | None = None, only: Sequence[str] | None = None
) -> Report:
    """Every one-revision check of ``source``; ``only`` limits what is reported (not
    what is read: references need the whole revision) to these paths or folders."""
    ctx = load(source, config)
    findings = run_rules(ctx)
    if only:
        prefixes = [p.rstrip("/") for p in only]
        findings = [
            f for f in findings if any(f.path == p or f.path.startswith(p + "/") for p in prefixes)
        ]
        count = sum(
            1 for f in ctx.files if any(f.path == p or f.path.startswith(p + "/") for p in prefixes)
        )
    else:
        count = len(ctx.files) + 1
    return Report(resolve(findings, ctx), count, ctx)
