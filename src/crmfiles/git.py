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
    raw = run(["ls-tree", "-r", "-z", "--full-tree", rev, "--", *paths], cwd).stdout
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
    raw = run(["ls-files", "--stage", "-z", "--", *paths], cwd).stdout
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
