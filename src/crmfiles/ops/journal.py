"""What a committing crm process holds and leaves, so that a kill is repaired.

crm's own lock (``<git dir>/crmfiles/commit.lock``, an ``flock``) is held from the
first phase of a commit to the last: two crm commands in one work tree check, write
and publish one after the other, and the second sees the first's commit.  The kernel
lets go of it when a process dies, so it is never stale.

The journal (``<git dir>/crmfiles/ops/<pid>.json``) is written before the first file
is and removed after the last step: which files the operation writes, what they held
before, a hash of what it wrote (null for a file it removes), HEAD before, and (once
made) the new commit and the index lock it filled.  A process killed half way leaves
it behind, and the next crm command reads it to finish the operation (HEAD is the
new commit) or to undo it (HEAD is not): :mod:`crmfiles.ops.leftovers`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import IO

from crmfiles.errors import CrmError
from crmfiles.records.edit import write_bytes_atomic

FOLDER = "crmfiles"  # under the git directory, beside the caches
LOCK = "commit.lock"
JOURNALS = "ops"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class CommitLock:
    """crm's lock on committing in one work tree (see the module's docstring)."""

    def __init__(self, git_dir: Path) -> None:
        self.path = git_dir / FOLDER / LOCK
        self._handle: IO[str] | None = None

    def acquire(self, *, timeout: float = 120.0, blocking: bool = True) -> bool:
        """Take the lock, waiting for another crm command to finish (an interrupt
        stops the wait); False when not ``blocking`` and another holds it."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not blocking or time.monotonic() > deadline:
                    handle.seek(0)
                    owner = handle.read().strip()
                    handle.close()
                    if not blocking:
                        return False
                    raise CrmError(
                        f"another crm command (pid {owner or '?'}) has been committing "
                        f"here for over {timeout:.0f} s; nothing was written",
                        hint="wait for it to finish and run the command again",
                    ) from None
                time.sleep(0.01)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # (closing lets go of the flock)


class Journal:
    """One operation's record of what it is doing (see the module's docstring).
    (A plain class: a dataclass costs a millisecond of start-up to every command.)"""

    FIELDS: tuple[str, ...] = ("pid", "host", "started", "what", "head", "subject")
    FIELDS += ("before", "ours", "commit", "lock", "index")

    def __init__(
        self,
        pid: int,
        host: str,
        started: float,
        what: str,
        head: str | None,
        subject: str,
        before: dict[str, str | None] | None = None,
        ours: dict[str, str | None] | None = None,
        commit: str | None = None,
        lock: list[int] | None = None,
        index: str | None = None,
    ) -> None:
        self.pid, self.host, self.started = pid, host, started
        self.what = what  # "crm close acme-forklifts", for a person
        self.head = head  # HEAD when the operation began to write
        self.subject = subject  # the commit's first line (how git commit's is known)
        self.before = before or {}  # path -> base64 of what it held (None: no file)
        self.ours = ours or {}  # path -> digest of what this process wrote (None: removed)
        self.commit = commit  # the new commit, once made
        self.lock = lock  # identity of the index lock filled
        self.index = index  # the index file that lock is for
        self.path = ""  # where this journal lives (not stored)

    @classmethod
    def begin(cls, git_dir: Path, what: str, head: str | None, subject: str) -> Journal:
        folder = git_dir / FOLDER / JOURNALS
        journal = cls(os.getpid(), socket.gethostname(), time.time(), what, head, subject)
        journal.path = str(folder / f"{os.getpid()}.json")
        return journal

    def writing(self, files: dict[str, tuple[bytes | None, bytes | None]]) -> None:
        """Say, before writing, what each path held and what it will hold (None: the
        file is removed)."""
        for path, (before, ours) in files.items():
            self.before[path] = base64.b64encode(before).decode() if before is not None else None
            self.ours[path] = digest(ours) if ours is not None else None
        self.save()

    def publishing(self, commit: str, index: Path, lock: tuple[int, int, int] | None) -> None:
        """Say, before HEAD moves, the commit it moves to and the index lock filled."""
        self.commit = commit
        self.index = str(index)
        self.lock = list(lock) if lock is not None else None
        self.save()

    def save(self) -> None:
        data = {name: getattr(self, name) for name in self.FIELDS}
        # (not forced to the disk: it is about processes killed, not power lost)
        write_bytes_atomic(Path(self.path), json.dumps(data).encode(), durable=False)

    def end(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def previous(self, path: str) -> bytes | None:
        encoded = self.before.get(path)
        return base64.b64decode(encoded) if encoded is not None else None

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        try:
            data = json.loads(path.read_bytes())
            journal = cls(**data)
        except (OSError, ValueError, TypeError):
            return None
        journal.path = str(path)
        return journal


def alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def any_left(git_dir: Path) -> bool:
    """Whether a journal or an index copy is there at all (a listing or two): only
    then is :func:`crmfiles.ops.leftovers.tidy` worth loading."""
    journals = git_dir / FOLDER / JOURNALS
    try:
        if journals.is_dir() and any(journals.iterdir()):
            return True
        return any(".crm-" in name for name in os.listdir(git_dir))
    except OSError:
        return False
