"""Which of the files ``git diff-files`` names differ from the index in content.

``git diff-files`` compares the index's stat data with the file's, and does not read
the file: a file written back as it was, touched, checked out again or copied with
the repository is named until something refreshes the index (``git status`` does).
A read that took it for an edit would parse it (harmless) and give up its kept
answer (a second instead of a third of one at 100,000 deals); so a few such files
are hashed and compared with their staged blob, as ``git status`` would.
"""

from __future__ import annotations

from pathlib import Path

from crmfiles import git
from crmfiles.cache import blob_id
from crmfiles.records.opener import Unreadable, read_regular

# more files named than this: taken as edited without looking (an edit of many files)
LOOKED_AT = 64


def content_changed(root: Path, paths: list[str]) -> list[str]:
    """``paths`` (named by ``git diff-files``, relative to ``root``) but those whose
    content is the staged blob's: a plain file, one entry in the index (no conflict),
    the same bytes.  Anything else, or more than :data:`LOOKED_AT` files, is kept."""
    if not paths or len(paths) > LOOKED_AT:
        return paths
    try:
        entries = git.ls_files(root, paths)
    except git.GitError:
        return paths
    staged: dict[str, str | None] = {}
    for entry in entries:  # (a conflicted path has several entries: not compared)
        staged[entry.path] = entry.blob if entry.path not in staged and entry.stage == 0 else None
    out = []
    for path in paths:
        blob = staged.get(path)
        if blob is None or not _same_content(root / path, blob):
            out.append(path)
    return out


def _same_content(path: Path, blob: str) -> bool:
    """Whether ``path`` is a regular file holding the blob (never waits on a FIFO)."""
    try:
        return blob_id(read_regular(path)) == blob
    except (OSError, Unreadable):
        return False
