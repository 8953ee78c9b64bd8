"""Which records a merge commit only combined, and may pass on that ground.

A merge is checked against its first parent for the records it changed itself (those
that differ from every parent).  A record both branches edited in different fields
differs from both parents with nobody resolving anything: a field-level merge (the
``crm`` merge driver's, or git's line merge where the lines lie apart) combined them.
Against the first parent such a merge also brings in the other branch's steps, which
that branch's own commits were checked for: the branch's two stage moves, seen from
main, look like one skip.

So a record whose merged data is exactly the field-level merge of the merge base and
the two parents (no hand-made value) passes when it is a lawful step from the second
parent; it is reported, against the first parent, only when it is lawful from
neither: a combination no single step could make, like one branch turning a custom
deal into a standard one while the other skipped a stage the custom kind allowed to
skip.  A record resolved by hand is judged against the first parent, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.merge.values import conflicts, merge3, same
from crmfiles.rules.step import Change, Step
from crmfiles.rules.suite import change_findings


def _lawful(step: Step, change: Change) -> bool:
    return not any(True for _ in change_findings(step, change))


def combined_paths(
    root: Path,
    parents: list[str],
    step: Step,
    load: Callable[[str, list[str]], dict[str, Any]],
    other_step: Callable[[str], Step],
) -> frozenset[str]:
    """The paths of ``step`` (a merge against its first parent) that are a combination
    of both parents, lawful from the second one.  ``load(rev, paths)`` reads records'
    data at a revision; ``other_step(rev)``: a step (without changes) from ``rev``."""
    if len(parents) != 2:
        return frozenset()
    flagged = [
        c for c in step.changes if c.old is not None and c.new is not None and not _lawful(step, c)
    ]
    if not flagged:
        return frozenset()
    answer = git.run(["merge-base", *parents], root, check=False)
    base = answer.stdout.decode().strip() if answer.returncode == 0 else ""
    paths = sorted({c.path for c in flagged} | {c.old_path for c in flagged if c.old_path})
    theirs = load(parents[1], paths)
    before = load(base, paths) if base else {}
    from_theirs = other_step(parents[1])
    out = set()
    for change in flagged:
        other = theirs.get(change.path)
        origin = before.get(change.path, before.get(change.old_path or ""))
        if not isinstance(other, dict):
            continue
        merged = merge3(origin if isinstance(origin, dict) else {}, change.old, other)
        if conflicts(merged) or not same(merged, change.new):
            continue  # a value made by hand: the merge's own step
        alternative = Change(
            change.folder, change.id, change.path, change.path, other, change.new, "M"
        )
        if _lawful(from_theirs, alternative):
            out.add(change.path)
    return frozenset(out)
