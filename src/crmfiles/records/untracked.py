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

FILE = "untracked-v2.marshal"
MARGIN_NS = 1_000_000_000
Identity = tuple[int, int, int, int, int] | None  # device, inode, size, mtime, ctime
MTIME = 3


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
        if stored["index"] != identity(_index(root, gitdir)) or stored["index"] is None:
            return None
        for rel, recorded in stored["dirs"].items():
            if _folder(os.lstat(root / rel)) != recorded:
                return None
        for path, recorded in stored["ignores"].items():
            if identity(Path(path)) != recorded:
                return None
        paths = stored["paths"]
    except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return list(paths) if isinstance(paths, list) else None


def remember(root: Path, gitdir: Path, tops: list[str], paths: list[str], since: int) -> None:
    """Record ``paths``, what ``git ls-files --others`` listed for ``tops`` in a
    listing that started at ``since`` (:func:`started`)."""
    index = identity(_index(root, gitdir))
    dirs: dict[str, tuple[int, int, int]] = {"": _folder(os.lstat(root))}
    for top in tops:
        full = root / top
        if full.is_dir() and not full.is_symlink():
            _folders(full, top, dirs)
    ignores = [root / ".gitignore", gitdir / "info" / "exclude", _global_excludes(root)]
    ignores += [root / rel / ".gitignore" for rel in dirs if rel]
    out = {
        "tops": tops,
        # changed during the listing (or too close to it to tell): not trusted
        "index": index if index is not None and index[MTIME] < since - MARGIN_NS else None,
        "dirs": {rel: (d if d[1] < since - MARGIN_NS else (-1, -1, -1)) for rel, d in dirs.items()},
        "ignores": {str(p): _recent(identity(p), since) for p in ignores if p is not None},
        "paths": paths,
    }
    from crmfiles.records.edit import write_bytes_atomic

    write_bytes_atomic(gitdir / "crmfiles" / FILE, marshal.dumps(out), durable=False)


def identity(path: Path) -> Identity:
    """The stat data a copy of the file cannot have (None: no such file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _folder(st: os.stat_result) -> tuple[int, int, int]:
    """A folder's inode, modification and inode change times (from the one lstat)."""
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


def _folders(full: Path, rel: str, out: dict[str, tuple[int, int, int]]) -> None:
    out[rel] = _folder(os.lstat(full))
    with os.scandir(full) as entries:
        subs = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    for name in subs:
        _folders(full / name, f"{rel}/{name}", out)


def _recent(stat: Identity, since: int) -> Identity:
    if stat is not None and stat[MTIME] >= since - MARGIN_NS:
        return (-1, -1, -1, -1, -1)  # never equal: ask git next time
    return stat


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
