"""Which checks run when, derived from the declarations (each rule module's ``CHECKS``).

A check's scope and what it depends on say when it runs and how long its findings
hold:

- ``file`` checks (the loader's) and ``record`` checks that depend on nothing but the
  record and the catalogs (``RECORD_RULES``, by folder) run once per parsed file: their
  findings are cached with the file, keyed by its blob and the catalogs' fingerprint.
- ``record`` checks that depend on ``ids`` (which other records exist, a partner's
  roles: ``ID_RULES``) or on ``links`` (the records a document is made from:
  ``LINK_RULES``) are cached with the file too, but checked again when what they
  read may have changed: every file when the set of ids changed, else the files
  parsed in this run and (for ``links``) the documents linked to them.
- ``collective`` checks compare records with each other and run on every run, from
  the few fields kept for each file; never cached per file.
- ``step`` checks judge one step between two revisions: :func:`step_findings`, the one
  function ``crm lint`` and the operations' guard both call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from crmfiles.diagnostics import Finding
from crmfiles.rules import (
    documents,
    files,
    names,
    opportunity,
    permanence,
    references,
    transitions,
)
from crmfiles.rules.base import Context, GlobalRule, RecordRule
from crmfiles.rules.registry import RULES, Check, Scope
from crmfiles.rules.step import Change, Step

CHECKS: tuple[Check, ...] = (
    *files.CHECKS,
    *references.CHECKS,
    *names.CHECKS,
    *opportunity.CHECKS,
    *documents.CHECKS,
    *transitions.CHECKS,
    *permanence.CHECKS,
)


def _record_rules() -> dict[str, tuple[RecordRule, ...]]:
    out: dict[str, list[RecordRule]] = {}
    for check in CHECKS:
        if check.scope == "record" and not check.depends:
            for folder in check.folders:
                out.setdefault(folder, []).append(check.run)
    return {folder: tuple(rules) for folder, rules in out.items()}


def _dependent(depends: str) -> tuple[Check, ...]:
    return tuple(c for c in CHECKS if c.scope == "record" and depends in c.depends)


RECORD_RULES: dict[str, tuple[RecordRule, ...]] = _record_rules()
ID_RULES: tuple[GlobalRule, ...] = tuple(c.run for c in _dependent("ids"))
ID_RULE_IDS = frozenset(rule for c in _dependent("ids") for rule in c.rules)
LINK_RULES: tuple[GlobalRule, ...] = tuple(c.run for c in _dependent("links"))
LINK_RULE_IDS = frozenset(rule for c in _dependent("links") for rule in c.rules)
COLLECTIVE_RULES: tuple[GlobalRule, ...] = tuple(c.run for c in CHECKS if c.scope == "collective")
CHANGE_RULES: tuple[Callable[[Step, Change], Iterator[Finding]], ...] = tuple(
    c.run for c in CHECKS if c.scope == "step" and c.per_change
)
STEP_RULES: tuple[Callable[[Step], Iterator[Finding]], ...] = tuple(
    c.run for c in CHECKS if c.scope == "step" and not c.per_change
)


def scopes(rule: str) -> frozenset[Scope]:
    """Where a rule is checked: the scopes of the checks that report it."""
    return frozenset(c.scope for c in CHECKS if rule in c.rules)


def is_transition(rule: str) -> bool:
    """Whether a rule needs two revisions (``crm lint``) for some of what it says."""
    return "step" in scopes(rule)


def is_one_revision(rule: str) -> bool:
    """Whether ``crm validate`` checks the rule (on one revision)."""
    return bool(scopes(rule) - {"step"})


def depends(rule: str) -> frozenset[str]:
    """What the checks of a rule read besides the record and the catalogs."""
    return frozenset(d for c in CHECKS if rule in c.rules for d in c.depends)


def change_findings(step: Step, change: Change) -> Iterator[Finding]:
    """Every step rule on one change of the step."""
    for rule in CHANGE_RULES:
        yield from rule(step, change)


def step_findings(step: Step) -> list[Finding]:
    """Every step rule on one step: each change's rules, and the step's own (an entry
    removed from a catalog while records use it).  ``crm lint`` and the operations'
    guard both judge a step with this one function, so an operation is checked as
    lint checks the commit it makes."""
    findings = [
        f
        for change in step.changes
        if change.path not in step.combined
        for f in change_findings(step, change)
    ]
    for rule in STEP_RULES:
        findings.extend(rule(step))
    return findings


def run_dependent(ctx: Context) -> None:
    """The record checks that read other records, their findings kept on the files
    they are about (``f.findings``, so the cache stores them)."""
    for rules in (ID_RULES, LINK_RULES):
        for finding in (found for rule in rules for found in rule(ctx)):
            owner = ctx.by_path(finding.path)
            if owner is not None:
                owner.findings.append(finding)


def _declared() -> None:
    """Every rule of the registry is reported by some check (a rule no check reports
    would be documented and never found)."""
    reported = {rule for c in CHECKS for rule in c.rules}
    missing = [rule for rule in RULES if rule not in reported]
    if missing:
        raise ValueError(f"rules no check reports: {missing}")


_declared()
