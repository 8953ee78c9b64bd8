"""Reading from git: revisions, trees, the index, blobs, differences and the log."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from crmfiles.git.process import NO_INDEX, ZERO, GitError, run, start


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
    return start_ls_files(cwd, paths)()


def start_ls_files(cwd: Path, paths: Sequence[str] = ()) -> Callable[[], list[TreeEntry]]:
    """:func:`ls_files`, started now (git reads the whole index: 20 ms at 100,000
    files); the returned function waits for it."""
    wait = start(cwd, ["--literal-pathspecs", "ls-files", "--stage", "-z", "--", *paths])
    return lambda: _index_entries(wait()[0])


def _index_entries(raw: bytes) -> list[TreeEntry]:
    entries = []
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, blob, stage = meta.decode().split(" ")
        entries.append(TreeEntry(mode, blob, path.decode("utf-8", "surrogateescape"), int(stage)))
    return entries


def ls_files_fast(cwd: Path, paths: Sequence[str] = ()) -> list[tuple[str, str, str, str]]:
    """``(path, mode, blob, stage)`` of the index, parsed with as little Python per
    entry as possible (100,000 entries on the hot path of a warm run)."""
    raw = run(["--literal-pathspecs", "ls-files", "--stage", "-z", "--", *paths], cwd).stdout
    text = raw.decode("utf-8", "surrogateescape")
    # "<mode> <blob> <stage>\t<path>": fixed widths for the 40-hex object ids git uses
    return [
        (item[50:], item[:6], item[7:47], item[48])
        if item[49:50] == "\t" and item[47:48] == " "
        else _slow_entry(item)
        for item in text.split("\0")
        if item
    ]


def _slow_entry(item: str) -> tuple[str, str, str, str]:
    meta, _, path = item.partition("\t")
    mode, blob, stage = meta.split(" ")
    return path, mode, blob, stage


def cat_blobs(blobs: Iterable[str], cwd: Path) -> Iterator[tuple[str, bytes]]:
    """Stream blob contents, in the order asked, from one ``git cat-file --batch``
    process: requests are written by a thread while the answers are read, so neither
    side waits for the other and at most one blob is held at a time."""
    wanted = list(blobs)
    if not wanted:
        return
    try:
        proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        try:
            for start in range(0, len(wanted), 1024):
                stdin.write(("\n".join(wanted[start : start + 1024]) + "\n").encode())
            stdin.close()
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for blob in wanted:
            header = stdout.readline().split(b" ")
            if len(header) != 3:
                continue  # "<id> missing"
            size = int(header[2])
            content = stdout.read(size)
            stdout.read(1)  # the newline after the content
            yield blob, content
    finally:
        writer.join()
        stdout.close()
        proc.wait()


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
                    status, path, path, None if old == ZERO else old, None if new == ZERO else new
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
            status, old_path, old = "A", None, ZERO
        out.append(
            RawChange(
                "M" if status == "T" else status,
                path,
                None if status == "A" else old_path,
                None if old == ZERO else old,
                None if new == ZERO else new,
            )
        )
    return out


def diff(
    cwd: Path, base: str, head: str | None, *, cached: bool = False, paths: Sequence[str] = ()
) -> list[RawChange]:
    """Changes from ``base`` to ``head`` (a tree-ish), the index (``cached``) or the
    work tree (tracked files only; ``head`` None), with renames detected."""
    return start_diff(cwd, base, head, cached=cached, paths=paths)()


def start_diff(
    cwd: Path, base: str, head: str | None, *, cached: bool = False, paths: Sequence[str] = ()
) -> Callable[[], list[RawChange]]:
    """:func:`diff`, started now; the returned function waits for it."""
    if head is not None:
        args = ["diff-tree", "-r", "-z", "-M", "--no-abbrev", base, head]
    else:
        args = ["diff-index", "-z", "-M", "--no-abbrev", *(["--cached"] if cached else []), base]
    wait = start(cwd, [*args, "--", *paths], env=NO_INDEX if head is not None else None)
    return lambda: _parse_raw(wait()[0].decode("utf-8", "surrogateescape").split("\0"))


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


def ref_exists(cwd: Path, ref: str) -> bool:
    return run(["rev-parse", "--verify", "-q", ref], cwd, check=False).returncode == 0


def write_tree(cwd: Path) -> str | None:
    """The tree id of the index (``GIT_INDEX_FILE`` honoured); None when the index
    cannot be written as a tree (unmerged entries, intent-to-add files)."""
    proc = run(["write-tree"], cwd, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def tree_changes(
    cwd: Path, old: str, new: str, paths: Sequence[str] = ()
) -> list[tuple[str, str, str, str]]:
    """``(status, path, new mode, new blob)`` of every file that differs between two
    trees, without rename pairing: O(changes), since equal subtrees are skipped."""
    raw = run(
        ["diff-tree", "-r", "-z", "--no-renames", "--no-abbrev", old, new, "--", *paths],
        cwd,
        env=NO_INDEX,
    ).stdout.decode("utf-8", "surrogateescape")
    tokens = raw.split("\0")
    out = []
    for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
        fields = meta.lstrip(":").split(" ")
        if len(fields) < 5:
            continue
        out.append((fields[4][:1], path, fields[1], fields[3]))
    return out
