"""Who approved a change that arrived by a merge: read from the merge commit's message,
where forges write it.

- ``Approved-by:`` and ``Reviewed-by:`` trailers (GitLab's merge-commit template
  writes them with ``%{approved_by}`` and ``%{reviewed_by}``; a team's own tooling can
  too);
- GitLab's default message ends ``See merge request group/project!34``;
- GitHub's is ``Merge pull request #12 from owner/branch`` (GitHub writes no approvers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles import git

_TRAILER = re.compile(r"^(approved-by|reviewed-by):[ \t]*(.+?)[ \t]*$", re.I | re.M)
_GITHUB = re.compile(r"^Merge pull request (#\d+)", re.M)
_GITLAB = re.compile(r"^See merge request (\S*?)(![0-9]+)\s*$", re.M)


@dataclass
class Approval:
    merge: str
    request: str | None = None  # "#12" (GitHub), "!34" (GitLab)
    approved_by: list[str] = field(default_factory=list)
    reviewed_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "merge": self.merge,
            "request": self.request,
            "approved_by": self.approved_by,
            "reviewed_by": self.reviewed_by,
        }

    def label(self) -> str:
        """``merge 4f1c2ab (#12), approved by Bob`` for a table cell."""
        text = f"merge {self.merge[:7]}" + (f" ({self.request})" if self.request else "")
        names = [_name(p) for p in self.approved_by]
        if names:
            text += f", approved by {', '.join(names)}"
        elif self.reviewed_by:
            text += f", reviewed by {', '.join(_name(p) for p in self.reviewed_by)}"
        return text


def _name(person: str) -> str:
    """``Bob Stone <bob@example.com>`` -> ``Bob Stone``; an e-mail alone stays."""
    name = person.partition("<")[0].strip()
    return name or person.strip("<> ")


def parse(merge: str, message: str) -> Approval:
    found = Approval(merge)
    for key, value in _TRAILER.findall(message):
        target = found.approved_by if key.lower() == "approved-by" else found.reviewed_by
        if value not in target:
            target.append(value)
    github, gitlab = _GITHUB.search(message), _GITLAB.search(message)
    found.request = github.group(1) if github else gitlab.group(2) if gitlab else None
    return found


def approvals(root: Path, merges: Iterable[str]) -> dict[str, Approval]:
    """The approval of each merge commit, from one ``git show``."""
    wanted = sorted(set(merges))
    if not wanted:
        return {}
    raw = git.run(["show", "-s", "--format=%x01%H%x02%B", *wanted], root).stdout
    out = {}
    for chunk in raw.decode("utf-8", "replace").split("\x01")[1:]:
        commit, _, message = chunk.partition("\x02")
        out[commit] = parse(commit, message)
    return out
