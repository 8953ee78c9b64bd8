"""``crm validate``, ``crm lint`` and ``crm rules``: run the checks, print a report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crmfiles.config import find_root, use_color
from crmfiles.diagnostics import Diagnostic
from crmfiles.diagnostics.formats import FORMATS, write_report
from crmfiles.errors import CrmError
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import Source
from crmfiles.records.worktree import WorkTree


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    default = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=default,
        help="report format (default: text; github under GitHub Actions)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings count as errors")
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="report only on these files or folders (all are read)",
    )
    head = parser.add_mutually_exclusive_group()
    head.add_argument("--staged", action="store_true", help="check the index, not the work tree")
    head.add_argument("--rev", metavar="REV", help="check a commit instead of the work tree")
    _add_report_arguments(parser)


def add_lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REV", help="the revision to compare with")
    head = parser.add_mutually_exclusive_group()
    head.add_argument("--staged", action="store_true", help="check what `git commit` records")
    head.add_argument("--head", metavar="REV", help="check a commit instead of the work tree")
    _add_report_arguments(parser)
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print a Markdown summary of what moved (for a CI job summary)",
    )


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--explain",
        metavar="RULE",
        help="what one rule forbids, where it is checked, how to fix it",
    )


def _source(root: Path, staged: bool, rev: str | None, detach: bool) -> Source:
    if staged:
        return Index(root)
    if rev:
        return Revision(root, rev)
    return WorkTree(root, detach=detach)


def _relative(root: Path, paths: list[str]) -> list[str]:
    out = []
    for raw in paths:
        full = Path(raw).resolve()
        try:
            out.append(full.relative_to(root).as_posix() if full != root else "")
        except ValueError:
            raise CrmError(f"'{raw}' is outside the repository {root}") from None
    return [p for p in out if p] if all(out) else []


def _report(args: argparse.Namespace, report_diagnostics: list[Diagnostic], files: int) -> int:
    stream = sys.stdout
    handle = None
    if args.output:
        try:
            handle = open(args.output, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CrmError(f"cannot write the report to {args.output}: {exc.strerror}") from None
        stream = handle
    try:
        write_report(
            report_diagnostics,
            args.format,
            stream,
            color=args.format == "text" and handle is None and use_color(sys.stdout),
            checked_files=files,
        )
    finally:
        if handle:
            handle.close()
    errors = sum(d.severity.value == "error" for d in report_diagnostics)
    if errors or (args.strict and report_diagnostics):
        return 1
    return 0


def write_empty_report(words: list[str]) -> None:
    """After a usage or configuration error (exit 2), ``--format gitlab`` still writes a
    report, ``[]``: GitLab rejects a Code Quality artifact that is an empty file."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--format")
    options.add_argument("--output", "-o")
    try:
        known, _ = options.parse_known_args(words)
    except SystemExit:  # the words cannot even say that much
        return
    if known.format != "gitlab":
        return
    try:
        if known.output:
            with open(known.output, "w", encoding="utf-8") as handle:
                write_report([], "gitlab", handle)
        else:
            write_report([], "gitlab", sys.stdout)
    except OSError:
        pass  # (the error already said why the report cannot be written there)


def run_validate(args: argparse.Namespace) -> int:
    from crmfiles.check import check

    root = find_root(explicit=args.repo)
    only = _relative(root, args.paths) if args.paths else None
    runtime = args.runtime
    source = _source(root, args.staged, args.rev, runtime.detach)
    report = check(source, only=only, bar=True, runtime=runtime)
    if only and report.files == 0:
        raise CrmError(
            f"{', '.join(args.paths)}: no CRM file there",
            hint="give files or folders of the repository, e.g. opportunities/",
        )
    return _report(args, report.diagnostics, report.files)


def run_lint(args: argparse.Namespace) -> int:
    from crmfiles.config import find_revisions_root
    from crmfiles.lint import lint

    # two committed revisions need no work tree: a bare repository will do
    root = find_revisions_root(args.repo) if args.head else find_root(explicit=args.repo)
    result = lint(
        root, base=args.base, head=args.head, staged=args.staged, bar=True, runtime=args.runtime
    )
    diagnostics = result.report.diagnostics
    if args.summary:
        from crmfiles.reports.changes import markdown, movements
        from crmfiles.reports.delta import delta

        money = delta(result.steps, result.report.context) if result.report.context else None
        sys.stdout.write(markdown(movements(result.steps), diagnostics, money))
        errors = sum(d.severity.value == "error" for d in diagnostics)
        return 1 if errors or (args.strict and diagnostics) else 0
    return _report(args, diagnostics, result.report.files)


def run_rules(args: argparse.Namespace) -> int:
    import json

    from crmfiles.rules.registry import RULES
    from crmfiles.rules.suite import depends, is_one_revision, is_transition, scopes

    if args.explain is not None:
        return _explain(args.explain)
    if args.format == "json":
        rules = [
            {
                "id": r.id,
                "summary": r.summary,
                "help": r.help,
                "default": r.default,
                "transition": is_transition(r.id),
                "scopes": sorted(scopes(r.id)),
                "depends": sorted(depends(r.id)),
            }
            for r in RULES.values()
        ]
        json.dump({"version": 1, "rules": rules}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    width = max(map(len, RULES))
    for rule in RULES.values():
        both = is_transition(rule.id) and is_one_revision(rule.id)
        scope = "both" if both else "lint" if is_transition(rule.id) else "validate"
        sys.stdout.write(f"{rule.id:<{width}}  {rule.default:<7}  {scope:<8}  {rule.summary}\n")
    return 0


def _explain(rule_id: str) -> int:
    """``crm rules --explain RULE``: the rule as docs/rules.md introduces it."""
    import difflib
    import textwrap

    from crmfiles.rules.registry import RULES
    from crmfiles.rules.suite import depends, is_one_revision, is_transition

    rule = RULES.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, RULES, n=1)
        raise CrmError(
            f"unknown rule '{rule_id}'" + (f"; did you mean '{close[0]}'?" if close else ""),
            hint="`crm rules` lists every rule id",
        )
    where = [
        *(["crm validate (one revision)"] if is_one_revision(rule.id) else []),
        *(["crm lint and every crm command (a step)"] if is_transition(rule.id) else []),
    ]
    reads = sorted(depends(rule.id) - {"base", "history"})
    lines = [
        f"{rule.id}: {rule.summary}",
        f"  default: {rule.default}" + (" (a lifecycle invariant)" if rule.lifecycle else ""),
        f"  checked by: {'; '.join(where)}",
        *([f"  reads: {', '.join(reads)}"] if reads else []),
        "",
        *textwrap.wrap(rule.help, 80),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
