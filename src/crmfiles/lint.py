"""``crm lint``: every one-revision check on the head, and the lifecycle rules on each
step from the base to the head.

A step is one commit against its parent (commit-range mode: a forbidden step cannot
hide behind a compliant end state) or, for a head in the work tree or the index, the
last commit against that head.  Commits come from one streamed ``git log --raw``;
merge commits are checked against their first parent, but only for the paths the
merge itself changed (conflict resolutions): what a merge brings in from the other
branch was checked on that branch's own commits.  A record the merge only combined
field by field passes when it is a lawful step from either parent (merge/combined.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.check import Report, check, resolve
from crmfiles.diagnostics import Diagnostic
from crmfiles.records import CATALOG_DIR, classify
from crmfiles.records.catalogs import Catalogs, build_catalogs, parse_bytes
from crmfiles.records.gitsources import Index, Revision
from crmfiles.records.sources import TOP_LEVEL, Source
from crmfiles.records.worktree import WorkTree
from crmfiles.revision_index import RevisionIndex, open_quotes
from crmfiles.rules.base import Context
from crmfiles.rules.step import Change, Step
from crmfiles.rules.suite import step_findings
from crmfiles.runtime import Runtime
from crmfiles.worktree_changes import WATCHED, index_changes, work_tree_changes


def _usage(ctx: Context, field_name: str, entry: str) -> int:
    """How many of the head's opportunities have ``entry`` in ``field_name`` (a field
    the facts keep), each readable file counted."""
    table = ctx.repository().fact_table("opportunities")
    doubles = ctx.doubles("opportunities", table)
    return table.column(field_name).count(entry) + sum(
        1 for f in doubles if f.data.get(field_name) == entry
    )


@dataclass
class LintResult:
    report: Report
    steps: list[Step] = field(default_factory=list)


def _changes(raw: list[git.RawChange], old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = []
    for item in raw:
        place = classify(item.path)
        if place is None or place.kind != "record":
            continue
        old_data = old.get(item.old_path or "") if item.status != "A" else None
        new_data = new.get(item.path) if item.status != "D" else None
        if item.status != "A" and not isinstance(old_data, dict):
            continue  # unreadable before: nothing to compare with
        if item.status != "D" and not isinstance(new_data, dict):
            continue  # unreadable now: validate reports it
        out.append(
            Change(
                place.name,
                place.id,
                item.path,
                item.old_path if item.status != "A" else None,
                old_data,
                new_data,
                item.status,
            )
        )
    return out


def _head_source(root: Path, staged: bool, head: str | None, detach: bool) -> Source:
    if staged:
        return Index(root)
    if head:
        return Revision(root, head)
    return WorkTree(root, detach=detach)


def lint(
    root: Path,
    base: str | None = None,
    head: str | None = None,
    staged: bool = False,
    *,
    bar: bool = False,
    runtime: Runtime | None = None,
) -> LintResult:
    """``runtime``: how crm runs (see :mod:`crmfiles.runtime`)."""
    head_source = _head_source(root, staged, head, runtime is not None and runtime.detach)
    current = git.resolve("HEAD", root) if git.has_commits(root) else git.EMPTY_TREE
    # (the empty tree as the base: every commit of the head, from its root)
    base_commit = (
        current if base is None else base if base == git.EMPTY_TREE else git.resolve(base, root)
    )
    # asked while the check runs (git reads the whole index): HEAD against the index,
    # or the paths the index changed (worktree_changes.py)
    early: Callable[[], list[git.RawChange]] | None = None
    index_paths: Callable[[], list[str]] | None = None
    if head is None and current != git.EMPTY_TREE:
        if staged:
            early = git.start_diff(root, current, None, cached=True, paths=WATCHED)
        else:
            index_paths = index_changes(root, current)
    report = check(head_source, bar=bar, runtime=runtime)
    ctx = report.context
    assert ctx is not None
    steps: list[Step] = []
    if head is not None:
        head_commit = git.resolve(head, root)
        steps.extend(_commit_steps(root, base_commit, head_commit))
    else:
        head_commit = current
        if head_commit != base_commit and base_commit != git.EMPTY_TREE:
            steps.extend(_commit_steps(root, base_commit, head_commit))
        # the range ends at HEAD; the last step is HEAD against the work tree or index
        steps.append(_final_step(root, head_commit, ctx, staged, early, index_paths))
    order: dict[str | None, int] = {None: len(steps)}
    diagnostics = list(report.diagnostics)
    for number, step in enumerate(steps):
        order[step.commit] = number
        findings = step_findings(step)
        if not findings:
            continue
        # a finding in an intermediate commit is shown in that commit's text, so the
        # excerpt matches the message; the head's text otherwise
        texts = dict(step.texts) if step.commit else {}
        for diagnostic in resolve(findings, ctx, texts):
            diagnostics.append(_with_commit(diagnostic, step.commit))
    diagnostics.sort(
        key=lambda d: (d.path, order.get(d.commit, len(steps)), d.line, d.column, d.rule, d.message)
    )
    return LintResult(Report(_dedupe(diagnostics), report.files, ctx), steps)


def _with_commit(d: Diagnostic, commit: str | None) -> Diagnostic:
    if commit is None:
        return d
    from dataclasses import replace

    return replace(d, commit=commit)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for d in diagnostics:
        key = (d.path, d.line, d.column, d.rule, d.message, d.commit)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _load_revision_files(root: Path, rev: str, paths: list[str]) -> dict[str, Any]:
    if rev == git.EMPTY_TREE or not paths:
        return {}  # no paths would be `git ls-tree REV --`: every file of the revision
    return {raw.path: parse_bytes(raw.content) for raw in Revision(root, rev).files_at(paths)}


def revision_catalogs(root: Path, rev: str) -> Catalogs:
    """The catalogs of a committed revision (none for the empty tree)."""
    return build_catalogs(_load_revision_files(root, rev, [CATALOG_DIR]).items())


def _final_step(
    root: Path,
    base_commit: str,
    ctx: Context,
    staged: bool,
    early: Callable[[], list[git.RawChange]] | None = None,
    index_paths: Callable[[], list[str]] | None = None,
) -> Step:
    """Base against the work tree or the index, whose files the head context holds
    (``early``: that diff of the index, started already; ``index_paths``: for the
    work tree, the paths the index changed)."""
    if base_commit == git.EMPTY_TREE:
        raw: list[git.RawChange] = [
            git.RawChange("A", f.path, None, None, f.blob) for f in ctx.all_files()
        ]
    elif staged:
        raw = (
            early()
            if early is not None
            else git.diff(root, base_commit, None, cached=True, paths=WATCHED)
        )
    else:
        raw = work_tree_changes(root, base_commit, ctx, index_paths)
    return step_between(root, base_commit, ctx, raw)


def step_between(
    root: Path,
    base_commit: str,
    ctx: Context,
    raw: list[git.RawChange],
    *,
    old_data: dict[str, Any] | None = None,
    new_data: dict[str, Any] | None = None,
    old_catalogs: dict[str, dict[str, dict[str, Any]]] | None = None,
    range_mode: bool = False,
    texts: dict[str, str] | None = None,
    author_email: str | None = None,
) -> Step:
    """The step from ``base_commit`` to the revision ``ctx`` holds, for the changes
    ``raw``: what ``crm lint`` checks last, and what an operation checks before it
    writes (it passes the texts it is about to write as ``new_data``/``texts`` and the
    committed ones it read as ``old_data``).  Data not given is read: the head's from
    ``ctx``, the base's from git; ``author_email``: who makes the step (default: the
    author of the next commit, as git says)."""
    if new_data is None:
        # the changed files' data (a file the cache restored is read now: few change)
        new_data = {c.path: ctx.data_for(c.path) for c in raw if c.status != "D"}
    wanted = sorted(
        {c.old_path for c in raw if c.old_path and c.status != "A"} - set(old_data or {})
    )
    old = {**_load_revision_files(root, base_commit, wanted), **(old_data or {})}
    if old_catalogs is None:
        old_catalogs = revision_catalogs(root, base_commit)
    base_index = RevisionIndex(root, base_commit)
    edited: dict[tuple[str, str], Any] = {}
    for path, data in old.items():
        place = classify(path)
        if place is not None and place.kind == "record":
            edited[(place.name, place.id)] = data if isinstance(data, dict) else None

    def old_record(folder: str, record_id: str) -> dict[str, Any] | None:
        # the records the step changes are at hand; any other is looked up in the base
        if (folder, record_id) in edited:
            return edited[(folder, record_id)]
        return base_index.get(folder, record_id)

    def head_records(folder: str) -> list[tuple[str, dict[str, Any]]]:
        return [(f.place.id, f.data) for f in ctx.records(folder) if isinstance(f.data, dict)]

    return Step(
        changes=_changes(raw, old, new_data),
        old_catalogs=old_catalogs,
        new_catalogs=ctx.catalogs,
        author_email=author_email or _author_email(root),
        range_mode=range_mode,
        old_record=old_record,
        open_quotes=lambda opp: open_quotes(head_records("quotes"), opp),
        usage=lambda fld, entry: _usage(ctx, fld, entry),
        catalog_paths=dict(ctx.catalog_paths),
        texts=dict(texts or {}),
    )


def _author_email(root: Path) -> str | None:
    """The e-mail git will record as the author of the next commit.

    ``git var`` honours ``GIT_AUTHOR_EMAIL``, which ``git commit --author`` exports to
    its hooks; ``user.email`` alone would judge a pre-commit run by the wrong person.
    """
    proc = git.run(["var", "GIT_AUTHOR_IDENT"], root, check=False)
    ident = proc.stdout.decode("utf-8", "replace")
    if proc.returncode == 0 and "<" in ident:
        return ident.partition("<")[2].partition(">")[0] or None
    return git.user_email(root)


def _commit_steps(root: Path, base: str, head: str) -> list[Step]:
    commits = git.log_changes(root, None if base == git.EMPTY_TREE else base, head, WATCHED)
    blobs = {b for c in commits for ch in c.changes for b in (ch.old_blob, ch.new_blob) if b}
    contents = dict(git.cat_blobs(sorted(blobs), root))
    data = {blob: parse_bytes(content) for blob, content in contents.items()}
    base_catalogs = revision_catalogs(root, base)
    # the catalogs after each commit: a commit is judged by its own parent's catalogs,
    # not by whatever commit the log listed before it (another branch's, maybe)
    after: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    steps = []
    for commit in commits:
        old_files = {
            c.old_path: data.get(c.old_blob) for c in commit.changes if c.old_path and c.old_blob
        }
        new_files = {c.path: data.get(c.new_blob) for c in commit.changes if c.new_blob}
        parent = commit.parents[0] if commit.parents else git.EMPTY_TREE
        catalogs = after.get(parent)
        if catalogs is None:  # the base, or a branch point outside the range
            catalogs = base_catalogs if parent == base else revision_catalogs(root, parent)
        if len(commit.parents) > 1:
            # a merge also takes catalogs from its other parents, which its diff omits
            new_catalogs = revision_catalogs(root, commit.commit)
        else:
            new_catalogs = dict(catalogs)
            new_catalogs.update(build_catalogs(new_files.items(), whole=False))
        after[commit.commit] = new_catalogs
        parent_index, commit_index = RevisionIndex(root, parent), RevisionIndex(root, commit.commit)
        step = Step(
            changes=_changes(commit.changes, old_files, new_files),
            old_catalogs=catalogs,
            new_catalogs=new_catalogs,
            commit=commit.commit,
            author_email=commit.email,
            author_name=commit.name,
            range_mode=True,
            old_record=parent_index.get,
            open_quotes=commit_index.open_quotes,
            usage=commit_index.usage,
            texts={
                c.path: contents[c.new_blob].decode("utf-8", "replace")
                for c in commit.changes
                if c.new_blob in contents
            },
        )
        if len(commit.parents) > 1:
            step.combined = _combined(root, commit.parents, step)
        steps.append(step)
    return steps


def _combined(root: Path, parents: list[str], step: Step) -> frozenset[str]:
    """The merge's records that only combine its parents lawfully (merge/combined.py)."""
    from dataclasses import replace

    from crmfiles.merge.combined import combined_paths

    def other_step(rev: str) -> Step:
        catalogs = revision_catalogs(root, rev)
        return replace(
            step, changes=[], old_catalogs=catalogs, old_record=RevisionIndex(root, rev).get
        )

    def load(rev: str, paths: list[str]) -> dict[str, Any]:
        return _load_revision_files(root, rev, paths)

    return combined_paths(root, parents, step, load, other_step)


__all__ = ["TOP_LEVEL", "LintResult", "lint"]
