"""Refuse before writing: an operation's edits, held in memory, checked by the engine
``crm lint`` uses.

Two layers, as in ``crm lint``: every one-revision check of the repository as it would
be, reported for the changed files; and the lifecycle rules on one step from HEAD to
those edits, made by the person git will record as the author.  An edit may remove
a file (None for its text): references other files still make to the record removed
count as its own diagnostics, and the step holds its deletion.  The step holds only
the operation's own files, so the user's unrelated work in progress neither blocks an
operation nor is judged by it.

"As it would be" is the commit the operation makes (HEAD with the edits laid over it)
when it commits: a new record that points at a partner nobody has committed yet is
refused, as CI would refuse that commit.  With ``--no-commit`` it is the work tree
with the edits laid over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from crmfiles import git
from crmfiles.check import Report, check, resolve
from crmfiles.diagnostics import Diagnostic, Severity
from crmfiles.lint import step_between
from crmfiles.ops.result import Refused
from crmfiles.records import CATALOG_DIR
from crmfiles.records.gitsources import Revision
from crmfiles.records.sources import Overlay, Source
from crmfiles.records.worktree import WorkTree
from crmfiles.records.yamlio import ParseError, parse
from crmfiles.rules.base import Context
from crmfiles.rules.step import Step
from crmfiles.rules.suite import LINK_RULE_IDS, step_findings
from crmfiles.runtime import Runtime


@dataclass
class Verdict:
    diagnostics: list[Diagnostic]  # errors first would refuse; these are what is left
    context: Context | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


def review(
    root: Path,
    texts: Mapping[str, str | None],
    *,
    head: str | None = None,
    commit: bool = False,
    committed: Mapping[str, str | None] | None = None,
    author: str | None = None,
    runtime: Runtime | None = None,
) -> Verdict:
    """Every diagnostic the edits would cause: ``texts`` maps each changed path to its
    new text; ``head`` is the commit they are judged against (None: no commit yet);
    ``commit`` says the edits become a commit, so the rules that judge commits (who
    made a stage change) apply too; ``committed`` gives head's version of changed
    paths where the caller has read it already (None: head has no such file)."""
    changes: dict[str, bytes | None] = {
        p: text.encode("utf-8") if text is not None else None for p, text in texts.items()
    }
    written = {p: t for p, t in texts.items() if t is not None}
    # a commit holds HEAD's files and ours, whatever else the work tree has: judge that
    # (and HEAD's listing is git's, where the work tree's needs a stat of every file)
    base: Source = (
        Revision(root, head, resolved=True)
        if commit and head
        else WorkTree(root, detach=runtime is not None and runtime.detach)
    )
    # (the first check after an upgrade reads everything: from the command line, with
    # a bar and a helper process, as `crm validate` does)
    report = check(Overlay(base, changes), runtime=runtime)
    removed = [p for p, t in texts.items() if t is None]
    diagnostics = _about(report, list(texts), removed)
    ctx = report.context
    if ctx is not None:
        step = _step(root, head, ctx, texts, commit, committed or {}, author)
        findings = step_findings(step)
        if findings:
            diagnostics += resolve(findings, ctx, written)
    diagnostics.sort(key=Diagnostic.sort_key)
    return Verdict(diagnostics, ctx)


def guard(
    root: Path,
    texts: Mapping[str, str | None],
    *,
    head: str | None = None,
    commit: bool = False,
    committed: Mapping[str, str | None] | None = None,
    what: str = "the change",
    author: str | None = None,
    runtime: Runtime | None = None,
) -> Verdict:
    """:func:`review`, raising :class:`Refused` when any diagnostic is an error."""
    verdict = review(
        root, texts, head=head, commit=commit, committed=committed, author=author, runtime=runtime
    )
    if verdict.errors:
        count = len(verdict.errors)
        raise Refused(
            f"{what} breaks {count} rule{'s' if count != 1 else ''}; nothing was written",
            verdict.diagnostics,
        )
    return verdict


def _about(report: Report, paths: list[str], removed: list[str]) -> list[Diagnostic]:
    """The diagnostics of the changed files, and those of other files that name one of
    them: a rule across files (a duplicate name or id) reports the later file in path
    order, which may be the one that was already there; a document rule reports the
    document a change to its source breaks (an open order of a deal closed as lost);
    and the references left, in any file, to a record removed."""
    changed = set(paths)
    gone = tuple(repr(PurePosixPath(p).stem) for p in removed)
    named = tuple(repr(PurePosixPath(p).stem) for p in paths)
    return [
        d
        for d in report.diagnostics
        if d.path in changed
        or any(path in d.message for path in changed)
        or (d.rule in LINK_RULE_IDS and any(name in d.message for name in named))
        or (gone and d.rule == "unknown-reference" and d.message.endswith(gone))
    ]


def _parse(text: str) -> Any:
    try:
        return parse(text)
    except ParseError:
        return None


def _step(
    root: Path,
    head: str | None,
    ctx: Context,
    texts: Mapping[str, str | None],
    commit: bool,
    committed: Mapping[str, str | None],
    author: str | None,
) -> Step:
    """HEAD against the edited files, as ``crm lint``'s last step would see them."""
    base = head or git.EMPTY_TREE
    old_texts = {p: t for p, t in committed.items() if p in texts and t is not None}
    unknown = [p for p in texts if p not in committed]
    blobs = {e.path: e.blob for e in git.ls_tree(base, root, unknown)} if head and unknown else {}
    if blobs:
        contents = dict(git.cat_blobs(sorted(set(blobs.values())), root))
        for path, blob in blobs.items():
            old_texts[path] = contents[blob].decode("utf-8", "replace").removeprefix("\ufeff")

    def status(path: str) -> str:
        if texts[path] is None:
            return "D"
        return "M" if old_texts.get(path) is not None else "A"

    raw = [
        git.RawChange(
            status(path), path, path if old_texts.get(path) is not None else None, None, None
        )
        for path in texts
        if texts[path] is not None or old_texts.get(path) is not None
    ]
    written = {p: t for p, t in texts.items() if t is not None}
    # checked on HEAD's files, the catalogs the check read are HEAD's unless edited
    same_catalogs = commit and head and not any(p.startswith(CATALOG_DIR + "/") for p in texts)
    return step_between(
        root,
        base,
        ctx,
        raw,
        old_data={path: _parse(text) for path, text in old_texts.items()},
        new_data={path: _parse(text) for path, text in written.items()},
        old_catalogs=ctx.catalogs if same_catalogs else None,
        range_mode=commit,
        texts=written,
        author_email=author,
    )
