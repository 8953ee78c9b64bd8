"""A thin wrapper over the git command line: trees, blobs, the index, commits.

We call ``git`` directly rather than through GitPython: one streamed
``cat-file --batch`` reads thousands of blobs in one process, and nothing lingers
in a long-running TUI.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


Answer = tuple[int, bytes, bytes]  # exit status, output, errors

# For commands that compare trees: ``git diff-tree`` reads the whole index first (16 MB
# at 100,000 files: 20 ms) though two trees' raw differences do not depend on it; an
# index file that does not exist is an empty index.
NO_INDEX = {
    "GIT_INDEX_FILE": os.path.join(
        tempfile.gettempdir(), f"crmfiles-no-index-{os.getpid()}-{os.urandom(8).hex()}"
    )
}


def ask(
    cwd: Path, *commands: Sequence[str], env: dict[str, str] | None = None
) -> Callable[[], list[Answer]]:
    """Start read-only git commands side by side; the returned function waits for
    their answers, in order (an exit status other than 0 is an answer, not an error)."""
    try:
        procs = [
            subprocess.Popen(
                ["git", *args],
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **env} if env is not None else None,
            )
            for args in commands
        ]
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None

    def collect() -> list[Answer]:
        answers = []
        for proc in procs:
            output, errors = proc.communicate()
            answers.append((proc.returncode, output, errors))
        return answers

    return collect


def start(
    cwd: Path, *commands: Sequence[str], env: dict[str, str] | None = None
) -> Callable[[], list[bytes]]:
    """Start read-only git commands now, side by side; the returned function waits for
    them and gives their outputs, in order (so Python can work meanwhile)."""
    wait = ask(cwd, *commands, env=env)

    def collect() -> list[bytes]:
        outputs = []
        for args, (status, output, errors) in zip(commands, wait(), strict=True):
            if status != 0:
                message = errors.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
                raise GitError(message)
            outputs.append(output)
        return outputs

    return collect


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


# --- writing: one commit of exactly these files ------------------------------------
#
# A commit of an operation is built with plumbing, never through the user's index:
# the new blobs go into HEAD's tree by rewriting only the trees on the way to them
# (:func:`edit_tree`), so the cost follows the depth of the path, not the size of the
# repository (a temporary index would be read, updated and written whole: three
# passes over 100,000 entries), and nothing the user staged can slip in.

HOOK_NAMES = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
}


@dataclass(frozen=True, slots=True)
class Head:
    commit: str | None  # None: no commit yet (an unborn branch)
    ref: str | None  # refs/heads/<branch>; None when HEAD is detached


_HEAD = (["symbolic-ref", "-q", "HEAD"], ["rev-parse", "--verify", "-q", "HEAD^{commit}"])
_IDENTITY = (["var", "GIT_AUTHOR_IDENT"], ["var", "GIT_COMMITTER_IDENT"])
_STATE = (
    ["rev-parse", *(a for name in [*_IN_PROGRESS, "hooks", "index"] for a in ("--git-path", name))],
)
_SIGN = (["config", "--type=bool", "--get", "commit.gpgSign"],)


class Situation:
    """What an operation asks git before it commits - HEAD, who commits, what git is
    in the middle of, its hooks, whether it signs - asked all at once when made (six
    processes side by side, while the operation reads its record)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._answers: list[Answer] = []
        self._lock = threading.Lock()  # (asked from an operation's threads too)
        self._wait: Callable[[], list[Answer]] | None
        try:
            self._wait = ask(cwd, *_HEAD, *_IDENTITY, *_STATE, *_SIGN)
        except GitError as err:  # said when an answer is needed, not before
            problem = err

            def fail() -> list[Answer]:
                raise problem

            self._wait = fail

    def _get(self) -> list[Answer]:
        with self._lock:
            if self._wait is not None:
                self._answers, self._wait = self._wait(), None
            return self._answers

    @property
    def head(self) -> Head:
        return _head(*self._get()[0:2])

    @property
    def identity(self) -> tuple[str | None, str | None]:
        """Why git could not commit here for want of a name or e-mail (or None), and
        the author's e-mail it would record."""
        return _identity(*self._get()[2:4])

    @property
    def state(self) -> tuple[str | None, list[str]]:
        """What git is in the middle of (or None), and the commit hooks it runs."""
        return _state(self.cwd, self._get()[4])

    @property
    def index(self) -> Path:
        """The index file (``GIT_INDEX_FILE`` honoured)."""
        status, output, _ = self._get()[4]
        paths = _paths(self.cwd, output.decode("utf-8", "surrogateescape")) if status == 0 else []
        if not paths:
            raise GitError("git rev-parse --git-path index failed")
        return paths[-1]

    @property
    def signs(self) -> bool:
        """Whether git signs commits here (``commit.gpgSign``)."""
        return self._get()[5][1].decode().strip() == "true"


def head(cwd: Path) -> Head:
    return _head(*ask(cwd, *_HEAD)())


def _head(ref: Answer, commit: Answer) -> Head:
    return Head(
        commit[1].decode().strip() or None if commit[0] == 0 else None,
        ref[1].decode().strip() or None if ref[0] == 0 else None,
    )


def _paths(cwd: Path, text: str) -> list[Path]:
    return [Path(p) if Path(p).is_absolute() else cwd / p for p in text.splitlines()]


def _state(cwd: Path, answer: Answer) -> tuple[str | None, list[str]]:
    if answer[0] != 0:
        raise GitError(answer[2].decode("utf-8", "replace").strip() or "git rev-parse failed")
    *states, hooks, _index = _paths(cwd, answer[1].decode("utf-8", "surrogateescape"))
    busy = next(
        (what for path, what in zip(states, _IN_PROGRESS.values(), strict=True) if path.exists()),
        None,
    )
    return busy, [
        name for name in HOOK_NAMES if (hooks / name).is_file() and os.access(hooks / name, os.X_OK)
    ]


def _identity(author: Answer, committer: Answer) -> tuple[str | None, str | None]:
    for status, _, errors in (author, committer):
        if status != 0:
            lines = errors.decode("utf-8", "replace").strip().splitlines()
            return (lines[-1].removeprefix("fatal: ") if lines else "no git identity"), None
    ident = author[1].decode("utf-8", "replace")
    return None, ident.partition("<")[2].partition(">")[0] or None if "<" in ident else None


def ref_exists(cwd: Path, ref: str) -> bool:
    return run(["rev-parse", "--verify", "-q", ref], cwd, check=False).returncode == 0


def hash_blobs(cwd: Path, contents: dict[str, bytes], *, write: bool = True) -> dict[str, str]:
    """The blob id of each content with the path's filters (``.gitattributes``) applied
    as ``git add`` would, written to the object store unless ``write`` is False."""
    flags = ["-w"] if write else []
    return {
        path: run(["hash-object", *flags, "--stdin", f"--path={path}"], cwd, input=content)
        .stdout.decode()
        .strip()
        for path, content in contents.items()
    }


def _tree_entries(raw: bytes, oid_size: int) -> dict[bytes, tuple[bytes, bytes]]:
    """A raw tree object: name -> (mode, binary object id)."""
    out: dict[bytes, tuple[bytes, bytes]] = {}
    pos = 0
    while pos < len(raw):
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        out[raw[space + 1 : nul]] = (raw[pos:space], raw[nul + 1 : nul + 1 + oid_size])
        pos = nul + 1 + oid_size
    return out


def edit_tree(cwd: Path, base: str | None, files: dict[str, str | None]) -> str:
    """The tree of ``base`` (a commit; None: empty) with each path set to a blob id
    (or removed, for None), rewriting only the trees on the way to those paths."""
    oid_size = len(base or "0" * 40) // 2
    dirs: set[str] = {""}
    for path in files:
        parts = path.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    ordered = sorted(dirs, key=lambda d: (-d.count("/") if d else 1, d))  # deepest first
    trees: dict[str, dict[bytes, tuple[bytes, bytes]]] = {d: {} for d in dirs}
    if base is not None:
        specs = {f"{base}^{{tree}}" if not d else f"{base}:{d}": d for d in dirs}
        for spec, raw in cat_blobs(list(specs), cwd):
            trees[specs[spec]] = _tree_entries(raw, oid_size)
    for path, blob in files.items():
        folder, _, name = path.rpartition("/")
        key = name.encode("utf-8", "surrogateescape")
        if blob is None:
            trees[folder].pop(key, None)
        else:
            mode = trees[folder].get(key, (b"100644", b""))[0]
            mode = mode if mode in (b"100644", b"100755") else b"100644"
            trees[folder][key] = (mode, bytes.fromhex(blob))
    algorithm = hashlib.sha1 if oid_size == 20 else hashlib.sha256
    if base is None and out(["rev-parse", "--show-object-format"], cwd).strip() == "sha256":
        algorithm = hashlib.sha256  # (an unborn branch: no id to tell it by)
    return _write_trees(cwd, ordered, trees, algorithm)


def _write_trees(
    cwd: Path,
    ordered: list[str],
    trees: dict[str, dict[bytes, tuple[bytes, bytes]]],
    algorithm: Callable[[bytes], Any],
) -> str:
    """The trees of :func:`edit_tree`, deepest first.  Each tree's id is computed here
    (the hash of its canonical form), so a parent names its new sub-trees without
    waiting for git; the trees go to scratch files that one ``git hash-object -t tree
    --stdin-paths`` writes (git checks their form), and git's ids are checked against
    ours.  (``git mktree`` spends 30 ms on a month folder's 1,600 entries; a process
    per tree costs more to start.)"""
    made: dict[str, bytes | None] = {}
    objects: list[tuple[str, bytes]] = []  # (our id, the tree's canonical content)
    for folder in ordered:
        entries = trees[folder]
        for sub in (d for d in ordered if d and d.rpartition("/")[0] == folder):
            key = sub.rpartition("/")[2].encode("utf-8", "surrogateescape")
            tree_id = made[sub]
            if tree_id is None:
                entries.pop(key, None)
            else:
                entries[key] = (b"40000", tree_id)
        if folder and not entries:
            made[folder] = None  # git keeps no empty folders
            continue
        # git's order: by name, a folder's name as if it ended in "/"
        names = sorted(entries, key=lambda n: n + b"/" if entries[n][0] == b"40000" else n)
        raw = b"".join(b"%s %s\0%s" % (entries[n][0], n, entries[n][1]) for n in names)
        oid = algorithm(b"tree %d\0" % len(raw) + raw).digest()
        made[folder] = oid
        objects.append((oid.hex(), raw))
    with tempfile.TemporaryDirectory(prefix="crm-trees-") as scratch:
        files: list[str] = []
        for n, (_, raw) in enumerate(objects):
            files.append(os.path.join(scratch, str(n)))
            with open(files[-1], "wb") as handle:
                handle.write(raw)
        proc = run(
            ["hash-object", "-t", "tree", "-w", "--stdin-paths"],
            cwd,
            input="".join(f"{f}\n" for f in files).encode("utf-8", "surrogateescape"),
            check=False,
        )
    answers = proc.stdout.decode().split()
    problems = [] if answers == [ours for ours, _ in objects] else ["git made other trees"]
    if proc.returncode != 0:
        problems.insert(0, proc.stderr.decode("utf-8", "replace").strip())
    root = made.get("")
    if problems or root is None:
        raise GitError(problems[0] if problems else "git made no tree")
    return root.hex()


def commit_tree(
    cwd: Path, tree: str, parents: Sequence[str], message: str, *, sign: bool = False
) -> str:
    args = ["commit-tree", tree, *(a for p in parents for a in ("-p", p))]
    if sign:
        args.append("-S")
    return run([*args, "-F", "-"], cwd, input=message.encode()).stdout.decode().strip()


def update_ref(cwd: Path, ref: str, new: str, old: str | None, message: str) -> None:
    """Move ``ref`` to ``new`` only if it still points at ``old`` (None: only if it
    does not exist yet), so a commit made meanwhile elsewhere is never lost."""
    run(["update-ref", "-m", message, ref, new, old or _ZERO], cwd)


def stage_paths(
    cwd: Path,
    paths: Sequence[str],
    *,
    attempts: int = 20,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Record the work tree's version of ``paths`` in the index (``git update-index
    --add --remove``), waiting a little while another git holds the index lock;
    ``meanwhile`` runs while git rewrites the index (which takes a while: 16 MB at
    100,000 files)."""
    import time

    for attempt in range(attempts):
        wait = ask(cwd, ["update-index", "--add", "--remove", "--", *paths])
        if meanwhile is not None:
            do, meanwhile = meanwhile, None
            do()
        status, _, errors = wait()[0]
        if status == 0:
            return
        error = errors.decode("utf-8", "replace")
        if "index.lock" not in error or attempt == attempts - 1:
            raise GitError(error.strip() or "git update-index failed")
        time.sleep(0.05)


class SideIndex:
    """The user's index with some entries changed, made in a copy beside it while the
    operation still works, and put in its place once the commit is made: updating the
    index rewrites all of it (16 MB at 100,000 files, the largest part of a commit),
    and here that work is off the path the user waits on.

    It starts before the entries are known: ``git update-index --index-info`` reads
    the copy first, then waits for :meth:`update` to say what changes, so reading the
    index overlaps the operation's own work and only the write is left after it.

    Installing takes the index lock as git does (``index.lock``, created exclusively,
    then renamed over the index) and only if the index is still the one copied;
    otherwise, or with a split index (whose shared part a copy does not carry), the
    caller stages the usual way.  The entries carry no stat data (the files are
    written after the copy was made): git's next look at them hashes those files
    again, as it would after any ``git update-index --cacheinfo``."""

    def __init__(self, cwd: Path, index: Path) -> None:
        """Copy the index and start git on the copy."""
        self.index = index
        self.copy = index.with_name(f"{index.name}.crm-{os.getpid()}")
        self.identity = file_identity(index)
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        if self.identity is None or any(index.parent.glob("sharedindex.*")):
            return
        try:
            shutil.copyfile(index, self.copy)
            shutil.copymode(index, self.copy)
            if file_identity(index) != self.identity:
                self.discard()
                return
            self._proc = subprocess.Popen(
                ["git", "update-index", "--add", "--remove", "-z", "--index-info"],
                cwd=cwd,
                env={**os.environ, "GIT_INDEX_FILE": str(self.copy)},
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self.discard()

    def update(self, entries: dict[str, tuple[str, str] | None]) -> None:
        """The entries that change (path -> (mode, blob id), or None to remove)."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.closed:
            return
        request = "".join(
            f"0 {'0' * 40}\t{path}\0" if entry is None else f"{entry[0]} {entry[1]}\t{path}\0"
            for path, entry in entries.items()
        )
        try:
            proc.stdin.write(request.encode("utf-8", "surrogateescape"))
            proc.stdin.close()
        except OSError:
            self.discard()

    def finish(self) -> bool:
        """Wait for git to finish the copy; whether it is made (with the entries of
        :meth:`update`: without them it is not)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None and not proc.stdin.closed:
                self._proc = proc
                self.discard()
                return False
            self._ready = proc.wait() == 0
            if not self._ready:
                self.discard()
        return self._ready

    def install(self) -> bool:
        """Put the copy in the index's place; False: it was not (the index changed, or
        another git holds its lock), and the copy is gone."""
        if not self.finish():
            return False
        lock = self.index.with_name(self.index.name + ".lock")
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except OSError:
            self.discard()
            return False
        os.close(fd)
        try:
            if file_identity(self.index) != self.identity:
                raise OSError("the index changed meanwhile")
            os.replace(self.copy, lock)  # the lock's content: the new index
            os.replace(lock, self.index)  # as git commits a lock file
            return True
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            self.discard()
            return False

    def discard(self) -> None:
        """Drop the copy (git, if still waiting for entries, is stopped: it removes
        its lock file on the way out, as on any signal)."""
        proc, self._proc = self._proc, None
        if proc is not None:  # (not before git has let go of the copy)
            if proc.stdin is not None and not proc.stdin.closed:
                proc.terminate()
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            proc.wait()
        self._ready = False
        for leftover in (self.copy, self.copy.with_name(self.copy.name + ".lock")):
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """Which version of a file this is (inode, size, modification time), or None when
    there is none; a file replaced by a rename is another version."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def gc_auto(cwd: Path) -> None:
    """Git's housekeeping, which plumbing commits never trigger (cheap when not due)."""
    run(["gc", "--auto", "--quiet"], cwd, check=False)


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
