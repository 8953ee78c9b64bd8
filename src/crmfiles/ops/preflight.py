"""Whether a plan may be carried out here, asked before anything is written.

The created files must not exist yet and a removed file must be unchanged since HEAD;
for a commit, git must know who makes it, must not be in the middle of a merge or a
rebase (``--branch`` instead needs a commit and a branch to start from), and the files
the plan edits must hold nothing uncommitted that the commit would sweep in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmfiles.errors import CrmError
from crmfiles.ops.workspace import Workspace

if TYPE_CHECKING:
    from crmfiles.ops.commit import Plan


def preflight(ws: Workspace, plan: Plan, *, commit: bool, branch: bool) -> None:
    root = ws.root
    for path in plan.created:
        if (root / path).exists() and not branch:
            raise CrmError(f"{path} already exists", hint="give another --id")
    if plan.removed:  # (its content would be lost, committed or not)
        dirty = ws.changed_since_head(plan.removed)
        if dirty:
            path, why = next(iter(sorted(dirty.items())))
            raise CrmError(
                f"{path} {why}, and `crm {plan.verb}` removes it",
                hint="commit or stash them first",
            )
    if not commit:
        return
    problem = ws.identity.problem
    if problem:
        raise CrmError(
            f"git cannot make a commit here: {problem}",
            hint='set `git config user.name "Your Name"` and `git config user.email '
            "you@example.com`, or pass --no-commit",
        )
    if branch:
        if ws.head.commit is None:
            raise CrmError(
                "--branch starts a branch from HEAD, and this repository has no commit yet"
            )
        if ws.head.ref is None:
            raise CrmError(
                "HEAD is detached: --branch starts the new branch from the current branch",
                hint="check out a branch first (`git switch main`)",
            )
    else:
        busy = ws.repository_state.busy
        if busy:
            raise CrmError(
                f"git is in the middle of {busy}; a commit now would get mixed into it",
                hint="finish or abort it first, or pass --no-commit (or --branch)",
            )
    edited = [p for p in plan.files if p not in plan.created]
    dirty = ws.changed_since_head(edited)
    if dirty:
        path, why = next(iter(sorted(dirty.items())))
        raise CrmError(
            f"{path} {why}; committing would sweep them into the `crm {plan.verb}` commit",
            hint="commit or stash them first, or pass --no-commit to leave this change "
            "uncommitted beside them",
        )
