"""A thin wrapper over the git command line: trees, blobs, the index, commits.

We call ``git`` directly rather than through GitPython: one streamed
``cat-file --batch`` reads thousands of blobs in one process, and nothing lingers
in a long-running TUI.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from crmfiles.errors import CrmError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitError(CrmError):
    pass


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    full_env = None
    if env is not None:
        full_env = {**os.environ, **env}
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=full_env
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        raise GitError(message)
    return proc


def out(args: Sequence[str], cwd: Path, **kwargs: object) -> str:
    return run(args, cwd, **kwargs).stdout.decode("utf-8", "replace")  # type: ignore[arg-type]


def toplevel(cwd: Path) -> Path | None:
    proc = run(["rev-parse", "--show-toplevel"], cwd, check=False)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.decode().strip())


def has_commits(cwd: Path) -> bool:
    return run(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd, check=False).returncode == 0


def resolve(rev: str, cwd: Path) -> str:
    """The commit id of ``rev``; a clear error when it does not exist."""
    proc = run(
        ["rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}"], cwd, check=False
    )
    if proc.returncode != 0:
        raise GitError(
            f"unknown revision '{rev}'",
            hint="give a branch, tag or commit id that exists in this repository",
        )
    return proc.stdout.decode().strip()


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str
    blob: str
    path: str
    stage: int = 0


def ls_tree(rev: str, cwd: Path, paths: Sequence[str] = ()) -> list[TreeEntry]:
    raw = run(
        ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", rev, "--", *paths], cwd
    ).stdout
    entries = []
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        if kind == "blob":
            entries.append(TreeEntry(mode, blob, path.decode("utf-8", "surrogateescape")))
    return entries


def ls_files(cwd: Path, paths: Sequence[str] = ()) -> list[TreeEntry]:
    """The index: ``git ls-files --stage`` (honours ``GIT_INDEX_FILE``, as hooks need)."""
    raw = run(["--literal-pathspecs", "ls-files", "--stage", "-z", "--", *paths], cwd).stdout
    entries = []
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, blob, stage = meta.decode().split(" ")
        entries.append(TreeEntry(mode, blob, path.decode("utf-8", "surrogateescape"), int(stage)))
    return entries


def cat_blobs(blobs: Iterable[str], cwd: Path) -> Iterator[tuple[str, bytes]]:
    """Stream blob contents with one ``git cat-file --batch`` process."""
    wanted = list(blobs)
    if not wanted:
        return
    request = ("\n".join(wanted) + "\n").encode()
    proc = run(["cat-file", "--batch"], cwd, input=request)
    data = proc.stdout
    pos = 0
    for blob in wanted:
        header_end = data.index(b"\n", pos)
        header = data[pos:header_end].split(b" ")
        if len(header) == 2 and header[1] == b"missing":
            pos = header_end + 1
            continue
        size = int(header[2])
        start = header_end + 1
        yield blob, data[start : start + size]
        pos = start + size + 1


@dataclass(frozen=True, slots=True)
class RawChange:
    """One entry of ``git diff --raw``: a path whose blob changed between two trees."""

    status: str  # A, M, D, R (T counts as M)
    path: str  # the new path (the old one for deletions)
    old_path: str | None
    old_blob: str | None
    new_blob: str | None  # None when the content is in the work tree only


@dataclass
class LoggedCommit:
    commit: str
    parents: list[str]
    email: str
    name: str
    subject: str
    changes: list[RawChange]


_ZERO = "0" * 40


def _parse_raw(tokens: list[str]) -> list[RawChange]:
    out: list[RawChange] = []
    i = 0
    while i < len(tokens):
        meta = tokens[i].lstrip("\n")
        if not meta.startswith(":"):
            i += 1
            continue
        combined = meta.startswith("::")
        fields = meta.lstrip(":").split(" ")
        status = fields[-1][:1]
        if combined:
            parents = meta.count(":")
            blobs = fields[parents + 1 : 2 * parents + 2]
            old, new = blobs[0], blobs[-1]
            path = tokens[i + 1]
            status = "A" if set(fields[-1]) == {"A"} else ("D" if "D" in fields[-1] else "M")
            out.append(
                RawChange(
                    status, path, path, None if old == _ZERO else old, None if new == _ZERO else new
                )
            )
            i += 2
            continue
        old, new = fields[2], fields[3]
        old_path: str | None
        if status in ("R", "C"):
            old_path, path = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            old_path = path = tokens[i + 1]
            i += 2
        if status == "C":  # a copy is a new file as far as records go
            status, old_path, old = "A", None, _ZERO
        out.append(
            RawChange(
                "M" if status == "T" else status,
                path,
                None if status == "A" else old_path,
                None if old == _ZERO else old,
                None if new == _ZERO else new,
            )
        )
    return out


def diff(
    cwd: Path, base: str, head: str | None, *, cached: bool = False, paths: Sequence[str] = ()
) -> list[RawChange]:
    """Changes from ``base`` to ``head`` (a tree-ish), the index (``cached``) or the
    work tree (tracked files only; ``head`` None), with renames detected."""
    if head is not None:
        args = ["diff-tree", "-r", "-z", "-M", "--no-abbrev", base, head]
    else:
        args = ["diff-index", "-z", "-M", "--no-abbrev", *(["--cached"] if cached else []), base]
    raw = run([*args, "--", *paths], cwd).stdout.decode("utf-8", "surrogateescape")
    return _parse_raw(raw.split("\0"))


def log_changes(
    cwd: Path, base: str | None, head: str, paths: Sequence[str] = ()
) -> list[LoggedCommit]:
    """Every commit in ``base..head``, oldest first, with its raw changes, from one
    streamed ``git log``.  Merge commits show only what the merge itself changed
    (paths that differ from every parent: conflict resolutions, evil merges)."""
    spec = f"{base}..{head}" if base else head
    raw = run(
        [
            "log",
            "--reverse",
            "--topo-order",
            "-z",
            "--raw",
            "-c",
            "-M",
            "--no-abbrev",
            "--format=%x01%H %P%x02%ae%x02%an%x02%s",
            spec,
            "--",
            *paths,
        ],
        cwd,
    ).stdout
    commits: list[LoggedCommit] = []
    for chunk in raw.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        header, _, rest = chunk.partition("\0")
        ids, email, name, subject = [*header.split("\x02"), "", "", ""][:4]
        commit, *parents = ids.split()
        commits.append(
            LoggedCommit(commit, parents, email, name, subject, _parse_raw(rest.split("\0")))
        )
    return commits


def untracked(cwd: Path, paths: Sequence[str] = ()) -> list[str]:
    raw = run(["ls-files", "--others", "--exclude-standard", "-z", "--", *paths], cwd).stdout
    return [p for p in raw.decode("utf-8", "surrogateescape").split("\0") if p]


def user_email(cwd: Path) -> str | None:
    proc = run(["config", "user.email"], cwd, check=False)
    return proc.stdout.decode().strip() or None
