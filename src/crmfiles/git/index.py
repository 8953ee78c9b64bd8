"""The user's index: a copy updated beside it, and git's lock protocol to replace it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from crmfiles.git.process import GitError
from crmfiles.git.situation import Situation

COPY_INFIX = ".crm-"  # index.crm-<pid>: the copy a crm process makes beside the index


class SideIndex:
    """The user's index with some entries changed, made in a copy beside it while the
    operation still works, and put in its place once the commit is made: updating the
    index rewrites all of it (16 MB at 100,000 files, the largest part of a commit),
    and here that work is off the path the user waits on.

    It starts before the entries are known: ``git update-index --index-info`` reads
    the copy first, then waits for :meth:`update` to say what changes, so reading the
    index overlaps the operation's own work and only the write is left after it.

    It goes into the index's place through :class:`IndexLock` (git's protocol), and
    only if the index is still the one copied; otherwise the caller makes another
    copy under the lock.  A copy begun early skips a split index (git may rewrite
    its shared part meanwhile); one made under the lock (``split_ok``) does not.
    The entries carry no stat data (the files are written after the copy was made):
    git's next look at them hashes those files again, as after any ``git update-index
    --cacheinfo``."""

    def __init__(self, cwd: Path, index: Path, *, split_ok: bool = False) -> None:
        """Copy the index and start git on the copy."""
        self.index = index
        self.copy = index.with_name(f"{index.name}{COPY_INFIX}{os.getpid()}")
        self.identity = file_identity(index)
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        if self.identity is None or (not split_ok and any(index.parent.glob("sharedindex.*"))):
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
        try:
            proc.stdin.write(_index_info(entries))
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

    def into(self, lock: IndexLock) -> bool:
        """Make the copy the content of ``lock`` (held), if the index is still the one
        copied; False: it was not (and the copy is gone)."""
        if not self.finish():
            return False
        try:
            if file_identity(self.index) != self.identity:
                raise OSError("the index changed meanwhile")
            lock.fill(self.copy)
            return True
        except OSError:
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


class IndexLock:
    """git's lock on the index: ``index.lock``, created exclusively, holds the new
    index until it is renamed over the old one.  While crm holds it, no other git
    writes the index or commits from it (``git commit`` takes it first), so the
    index and HEAD change together as far as git can tell."""

    def __init__(self, index: Path) -> None:
        self.index = index
        self.path = index.with_name(index.name + ".lock")
        self.held = False
        self.identity: tuple[int, int, int] | None = None  # of the new index in it

    def acquire(self, *, attempts: int = 40, pause: float = 0.025) -> None:
        """Take the lock, waiting a little (a second) while another git holds it."""
        for attempt in range(attempts):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if attempt == attempts - 1:
                    raise GitError(
                        f"another git process holds {self.path.name} ({self.path})",
                        hint="wait for it and run the command again; if no git is running, "
                        "`crm doctor` explains the leftover and `crm doctor --fix` removes it",
                    ) from None
                time.sleep(pause)
                continue
            except OSError as err:
                raise GitError(f"cannot lock the index: {err.strerror}") from None
            os.close(fd)
            self.held = True
            return

    def fill(self, new_index: Path) -> None:
        """Make ``new_index`` (a file beside the index) the lock's content."""
        os.replace(new_index, self.path)
        self.identity = file_identity(self.path)

    def commit(self) -> None:
        """Put the new index in place (the lock goes with it)."""
        os.replace(self.path, self.index)
        self.held = False

    def release(self) -> None:
        """Give the lock up, the index unchanged."""
        if self.held:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.held = False


def index_with(
    cwd: Path, index: Path, entries: dict[str, tuple[str, str] | None], lock: IndexLock
) -> None:
    """Fill ``lock`` (held) with the index as it is now plus ``entries``: the way when
    no copy begun earlier can be used (the index changed since, a split index)."""
    side = SideIndex(cwd, index, split_ok=True)
    side.update(entries)
    if side.identity is None:  # no index yet: git makes one from the entries alone
        side.copy.unlink(missing_ok=True)
        proc = subprocess.run(
            ["git", "update-index", "--add", "--remove", "-z", "--index-info"],
            cwd=cwd,
            env={**os.environ, "GIT_INDEX_FILE": str(side.copy)},
            input=_index_info(entries),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            side.discard()
            error = proc.stderr.decode("utf-8", "replace").strip()
            raise GitError(error or "git update-index failed")
        lock.fill(side.copy)
        return
    if not side.into(lock):
        raise GitError("git could not write the new index")


def _index_info(entries: dict[str, tuple[str, str] | None]) -> bytes:
    return "".join(
        f"0 {'0' * 40}\t{path}\0" if entry is None else f"{entry[0]} {entry[1]}\t{path}\0"
        for path, entry in entries.items()
    ).encode("utf-8", "surrogateescape")


def side_index_for(situation: Situation, root: Path) -> SideIndex | None:
    """A :class:`SideIndex` begun now, or None when git commits another way here
    (hooks, signing) or is in the middle of something."""
    busy, hooks = situation.state
    if busy or hooks or situation.signs:
        return None  # git commit makes this commit, and updates the index itself
    return SideIndex(root, situation.index)


class EarlySideIndex:
    """:func:`side_index_for` on a thread: it waits for git's answers about the
    repository, then copies the index and starts git on the copy."""

    def __init__(self, situation: Situation, root: Path) -> None:
        self._made: SideIndex | None = None
        self._thread = threading.Thread(target=self._run, args=(situation, root), daemon=True)
        self._thread.start()

    def _run(self, situation: Situation, root: Path) -> None:
        with contextlib.suppress(Exception):  # not begun early: begun when needed
            self._made = side_index_for(situation, root)

    def result(self) -> SideIndex | None:
        self._thread.join()
        return self._made
