"""What killed processes leave in a repository, explained and repaired.

crm's own leftovers are known by the process id in their names and journals: a
journal of a dead process (:mod:`crmfiles.ops.journal`), finished or undone from what
it says; an index copy ``index.crm-<pid>`` (16 MB at 100,000 records) of a dead
process, or older than a day (its id reused since).  Every writing command repairs
these at its start (:func:`tidy`).  ``crm doctor`` also looks for what it cannot tell
the owner of: an ``index.lock`` older than a while, when no git works in the
repository, and ``.<name>.yaml.<random>.tmp`` files of an atomic write in the work
tree; it removes them only when asked to.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crmfiles import git
from crmfiles.ops.journal import FOLDER, JOURNALS, CommitLock, Journal, alive, digest
from crmfiles.records.edit import write_bytes_atomic

DAY = 24 * 3600.0
_COPY = re.compile(re.escape(git.COPY_INFIX) + r"(\d+)(\.lock)?$")
_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")


@dataclass
class Leftover:
    path: Path
    explanation: str  # what it is and why it is left, for a person
    own: bool  # crm's own, repaired by any writing command
    journal: Journal | None = None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def own_leftovers(git_dir: Path) -> list[Leftover]:
    """crm's leftovers of dead processes: two directory listings when there are none."""
    found: list[Leftover] = []
    journals = git_dir / FOLDER / JOURNALS
    for path in sorted(journals.glob("*.json")) if journals.is_dir() else []:
        journal = Journal.load(path)
        if journal is None:
            if _age(path) > 60:
                found.append(Leftover(path, "an unreadable journal of a crm command", True))
            continue
        same_host = journal.host == socket.gethostname()
        if (same_host and not alive(journal.pid)) or time.time() - journal.started > DAY:
            found.append(
                Leftover(
                    path,
                    f"`{journal.what}` (pid {journal.pid}) stopped half way while committing",
                    True,
                    journal,
                )
            )
    try:
        names = os.listdir(git_dir)
    except OSError:
        names = []
    for name in sorted(names):
        match = _COPY.search(name)
        if match is None:
            continue
        path = git_dir / name
        if not alive(int(match.group(1))) or _age(path) > DAY:
            found.append(
                Leftover(path, f"a copy of the index made by crm (pid {match.group(1)})", True)
            )
    return found


def other_leftovers(root: Path, git_dir: Path, older_than: float) -> list[Leftover]:
    """What only ``crm doctor`` looks for: a stale ``index.lock`` and temporary files
    of atomic writes in the work tree, both older than ``older_than`` seconds."""
    found: list[Leftover] = []
    lock = git_dir / "index.lock"
    holder = CommitLock(git_dir)
    if (
        lock.exists()
        and _age(lock) > older_than
        and not _git_running_in(root)
        and holder.acquire(blocking=False)
    ):
        holder.release()  # (no crm command is committing)
        found.append(
            Leftover(
                lock,
                f"git's index lock, {_age(lock):.0f} s old: a git or crm process that was "
                "killed left it, and git refuses to commit while it exists",
                False,
            )
        )
    for path in _temp_files(root):
        if _age(path) > older_than:
            found.append(
                Leftover(
                    path, "half of an atomic write (a process was killed before its rename)", False
                )
            )
    return found


def _git_running_in(root: Path) -> bool:
    """Whether a git process works in this repository now (where ``/proc`` tells)."""
    proc, root = Path("/proc"), root.resolve()
    if not proc.is_dir():
        return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
            if os.path.basename(command) != b"git":
                continue
            where = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if where == root or root in where.parents:
            return True
    return False


def _temp_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            if _TEMP.match(name) and ".yaml." in name:
                yield Path(folder) / name


def repair(root: Path, leftover: Leftover) -> str:
    """Repair one leftover; what was done, for a person."""
    if leftover.journal is not None:
        return _replay(root, leftover.journal)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(leftover.path)
    return f"removed {leftover.path.name}"


def _replay(root: Path, journal: Journal) -> str:
    """Finish what ``journal`` began (HEAD is its commit) or undo it (HEAD is not)."""
    head = git.head(root).commit
    index = Path(journal.index) if journal.index else None
    lock = index.with_name(index.name + ".lock") if index is not None else None
    ours = lock is not None and journal.lock and git.file_identity(lock) == tuple(journal.lock)
    published = journal.commit is not None and head == journal.commit
    if journal.commit is None and head != journal.head and head is not None:
        # (`git commit` made the commit: it is ours when it carries our subject on top)
        subject = git.out(["log", "-1", "--format=%s%n%P", head], root).splitlines()
        published = bool(subject) and subject[0] == journal.subject
    _remove_temp_files(root, journal)
    if published:
        if ours and lock is not None and index is not None:
            os.replace(lock, index)
        journal.end()
        return (
            f"finished `{journal.what}` (pid {journal.pid}): its commit {head and head[:7]} stands"
        )
    if ours and lock is not None:
        os.unlink(lock)
    restored = []
    for path, wrote in journal.ours.items():
        full = root / path
        try:
            now = full.read_bytes()
        except FileNotFoundError:
            now = None
        if wrote is None:  # a file it removed: put back while still gone
            if now is not None:
                continue
        elif now is None or digest(now) != wrote:
            continue  # not what it wrote (never written, or changed since): left alone
        before = journal.previous(path)
        if before is None:
            full.unlink(missing_ok=True)
            _remove_empty_folders(root, full.parent)
        else:
            write_bytes_atomic(full, before)
        restored.append(path)
    journal.end()
    files = f"; put back {', '.join(restored)}" if restored else ""
    return f"undid `{journal.what}` (pid {journal.pid}), which was not committed{files}"


def _remove_temp_files(root: Path, journal: Journal) -> None:
    for path in journal.ours:
        full = root / path
        for temp in full.parent.glob(f".{full.name}.*.tmp") if full.parent.is_dir() else []:
            temp.unlink(missing_ok=True)


def _remove_empty_folders(root: Path, folder: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def tidy(root: Path, git_dir: Path) -> list[str]:
    """Repair crm's own leftovers of dead processes, under crm's lock (skipped when
    another crm command holds it: that one repairs them); what was done."""
    found = own_leftovers(git_dir)
    if not found:
        return []
    lock = CommitLock(git_dir)
    if not lock.acquire(blocking=False):
        return []
    try:
        return [repair(root, leftover) for leftover in own_leftovers(git_dir)]
    finally:
        lock.release()
