"""What the status bar shows of git, read cheaply enough to poll every two seconds.

One ``git status --porcelain=v2 --branch`` gives the branch, ahead/behind and the
uncommitted record files; ``--no-optional-locks`` keeps a background poll from taking
the index lock that a commit in another terminal (or our own operation) needs.
``for-each-ref`` lists the ``crm/<id>-<stage>`` branches not yet merged, so a record
with a pending change elsewhere is marked.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from crmfiles import git
from crmfiles.records import CONFIG_FILE, classify
from crmfiles.records.sources import TOP_LEVEL

BRANCH_PREFIX = "crm/"


@dataclass(frozen=True)
class GitState:
    head: str = ""
    branch: str = ""
    upstream: str = ""
    ahead: int = 0
    behind: int = 0
    dirty: tuple[str, ...] = ()  # changed, uncommitted CRM files (work tree or index)
    branches: tuple[str, ...] = ()  # unmerged crm/* branches
    error: str = ""

    @property
    def records_dirty(self) -> int:
        return sum(1 for p in self.dirty if p != CONFIG_FILE)

    def pending(self, record_ids: Collection[str]) -> dict[str, list[str]]:
        """Record id -> the unmerged ``crm/<id>-<stage>`` branches that change it."""
        out: dict[str, list[str]] = {}
        for branch in self.branches:
            rest = branch.removeprefix(BRANCH_PREFIX)
            # ids and stages may both hold dashes: the longest known id wins
            cuts = [i for i, ch in enumerate(rest) if ch == "-"]
            for cut in reversed(cuts):
                if rest[:cut] in record_ids:
                    out.setdefault(rest[:cut], []).append(branch)
                    break
        return out


def read_state(root: Path) -> GitState:
    try:
        status = git.run(
            [
                "--no-optional-locks",
                "status",
                "--porcelain=v2",
                "--branch",
                "-z",
                "--untracked-files=all",
                "--",
                *TOP_LEVEL,
            ],
            root,
        ).stdout
        refs = git.run(
            [
                "for-each-ref",
                "--format=%(refname:short)",
                "--no-merged=HEAD",
                f"refs/heads/{BRANCH_PREFIX}",
            ],
            root,
            check=False,
        ).stdout
    except git.GitError as err:
        return GitState(error=err.message)
    return parse_status(status, refs.decode("utf-8", "replace").split())


def parse_status(raw: bytes, branches: list[str]) -> GitState:
    head = branch = upstream = ""
    ahead = behind = 0
    dirty: list[str] = []
    items = raw.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if item.startswith("# branch.oid "):
            head = item.split(" ", 2)[2].replace("(initial)", "")
        elif item.startswith("# branch.head "):
            branch = item.split(" ", 2)[2]
        elif item.startswith("# branch.upstream "):
            upstream = item.split(" ", 2)[2]
        elif item.startswith("# branch.ab "):
            parts = item.split(" ")
            ahead, behind = abs(int(parts[2])), abs(int(parts[3]))
        elif item[:2] in ("1 ", "u "):
            dirty.append(item.split(" ", 8 if item[0] == "1" else 10)[-1])
        elif item.startswith("2 "):
            dirty.append(item.split(" ", 9)[-1])
            i += 1  # the original path follows
        elif item.startswith("? "):
            dirty.append(item[2:])
    kept = tuple(p for p in dirty if p == CONFIG_FILE or classify(p) is not None)
    return GitState(head, branch, upstream, ahead, behind, kept, tuple(branches))


def tree_fingerprint(
    root: Path, since_ns: int | None = None
) -> tuple[str, int, int, int, int] | None:
    """HEAD, the index's mtime, and the count, mtimes and sizes of the CRM files: a
    commit, a pull, a ``git add`` or an edit in another terminal each change it.
    One ``rev-parse`` and one ``stat`` per file: milliseconds for 10,000 records.

    Taken after reading the records that began at ``since_ns``: None when a file
    changed since then (it may have changed under the read, as git's "racily clean"
    entries), so the next poll reads again."""
    proc = git.run(["rev-parse", "-q", "--verify", "HEAD"], root, check=False)
    head = proc.stdout.decode().strip()
    try:
        index = os.stat(root / ".git" / "index").st_mtime_ns
    except OSError:
        index = 0
    count = mtimes = sizes = newest = 0
    stack = [str(root / top) for top in TOP_LEVEL]
    while stack:
        path = stack.pop()
        try:
            entries = os.scandir(path)
        except (NotADirectoryError, FileNotFoundError):
            try:
                st = os.stat(path)
            except OSError:
                continue
            count, mtimes, sizes = count + 1, mtimes + st.st_mtime_ns, sizes + st.st_size
            newest = max(newest, st.st_mtime_ns)
            continue
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        stack.append(entry.path)
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                count, mtimes, sizes = count + 1, mtimes + st.st_mtime_ns, sizes + st.st_size
                newest = max(newest, st.st_mtime_ns)
    # file times come from a coarse clock that may lag: a second's margin
    if since_ns is not None and newest >= since_ns - 1_000_000_000:
        return None
    return head, index, count, mtimes, sizes
