"""Which files of the CRM folders git does not track, without asking git to walk
every name of a 100,000-file work tree when nothing can have changed the answer.

``git ls-files --others`` reads every folder and looks every name up in the index
(0.3-0.5 s at 100,000 records).  Its answer can only change when a folder gains or
loses an entry (which changes that folder's modification time), when the index
changes (a file added or removed from it), or when an ignore file changes.  So the
answer is kept under ``.git/crmfiles/`` with the modification times of every folder
of the CRM folders, the identity of the index and of every ignore file that applies,
and is used again while all of them are as they were.  It is git's own untracked
cache (``core.untrackedCache``), kept outside the user's index.

Timestamps have a granularity, and a folder can change while git reads it: a folder
changed less than :data:`MARGIN_NS` before the listing started is recorded as not to
be trusted, so the next run asks git again.  A changed ``core.excludesFile`` setting
(not the file it names) is not noticed.
"""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path

from crmfiles import git

FILE = "untracked-v1.marshal"
MARGIN_NS = 1_000_000_000
Identity = tuple[int, int, int] | None


def started() -> int:
    """The time to pass to :func:`remember`, taken before git lists the files."""
    return time.time_ns()


def known(root: Path, gitdir: Path, tops: list[str]) -> list[str] | None:
    """The untracked paths recorded for ``tops``, if nothing since can have changed
    them; None: ask git."""
    try:
        with open(gitdir / "crmfiles" / FILE, "rb") as handle:
            stored = marshal.load(handle)
        if not isinstance(stored, dict) or stored.get("tops") != tops:
            return None
        if stored["index"] != git.file_identity(_index(root, gitdir)) or stored["index"] is None:
            return None
        for rel, mtime in stored["dirs"].items():
            if os.lstat(root / rel).st_mtime_ns != mtime:
                return None
        for path, identity in stored["ignores"].items():
            if git.file_identity(Path(path)) != identity:
                return None
        paths = stored["paths"]
    except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return list(paths) if isinstance(paths, list) else None


def remember(root: Path, gitdir: Path, tops: list[str], paths: list[str], since: int) -> None:
    """Record ``paths``, what ``git ls-files --others`` listed for ``tops`` in a
    listing that started at ``since`` (:func:`started`)."""
    index = git.file_identity(_index(root, gitdir))
    dirs: dict[str, int] = {"": os.lstat(root).st_mtime_ns}
    for top in tops:
        full = root / top
        if full.is_dir() and not full.is_symlink():
            _folders(full, top, dirs)
    ignores = [root / ".gitignore", gitdir / "info" / "exclude", _global_excludes(root)]
    ignores += [root / rel / ".gitignore" for rel in dirs if rel]
    out = {
        "tops": tops,
        # changed during the listing (or too close to it to tell): not trusted
        "index": index if index is not None and index[2] < since - MARGIN_NS else None,
        "dirs": {rel: (m if m < since - MARGIN_NS else -1) for rel, m in dirs.items()},
        "ignores": {str(p): _recent(git.file_identity(p), since) for p in ignores if p is not None},
        "paths": paths,
    }
    from crmfiles.records.edit import write_bytes_atomic

    write_bytes_atomic(gitdir / "crmfiles" / FILE, marshal.dumps(out), durable=False)


def _folders(full: Path, rel: str, out: dict[str, int]) -> None:
    out[rel] = os.lstat(full).st_mtime_ns
    with os.scandir(full) as entries:
        subs = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    for name in subs:
        _folders(full / name, f"{rel}/{name}", out)


def _recent(identity: Identity, since: int) -> Identity:
    if identity is not None and identity[2] >= since - MARGIN_NS:
        return (-1, -1, -1)  # never equal: ask git next time
    return identity


def _index(root: Path, gitdir: Path) -> Path:
    named = os.environ.get("GIT_INDEX_FILE")
    return (
        (root / named if not os.path.isabs(named) else Path(named)) if named else gitdir / "index"
    )


def _global_excludes(root: Path) -> Path | None:
    configured = git.run(["config", "--path", "core.excludesFile"], root, check=False)
    value = configured.stdout.decode("utf-8", "surrogateescape").strip()
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "git" / "ignore"
