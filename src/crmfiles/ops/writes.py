"""The write phase of a commit and its undo: the plan's files written atomically (or
removed), each announced in the journal first, and put back only where they still
hold what this process wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crmfiles import git
from crmfiles.ops.journal import Journal
from crmfiles.records.edit import write_atomic, write_bytes_atomic

if TYPE_CHECKING:
    from crmfiles.ops.commit import Plan


def write_files(root: Path, plan: Plan, journal: Journal) -> dict[str, bytes | None]:
    """Write the new texts atomically and remove the removed files, announced in the
    journal first; return what each path held before."""
    files = plan.files
    paths = sorted(files)
    ours = {p: encoded(files[p]) for p in paths}
    before: dict[str, bytes | None] = {}
    for path in paths:
        full = root / path
        before[path] = full.read_bytes() if full.exists() else None
    journal.writing({p: (before[p], ours[p]) for p in paths})
    previous: dict[str, bytes | None] = {}
    try:
        for path in paths:
            previous[path] = before[path]
            text = files[path]
            if text is None:
                (root / path).unlink(missing_ok=True)
            else:
                write_atomic(root / path, text)
    except BaseException:
        restore_files(root, previous, files)
        journal.end()
        raise
    return previous


def encoded(text: str | None) -> bytes | None:
    return text.encode("utf-8") if text is not None else None


def committed_as_written(root: Path, head: str | None, files: dict[str, str | None]) -> set[str]:
    """The paths whose version at ``head`` is the text written for them (for a
    removed path: that ``head`` has no such file either)."""
    if head is None:
        return set()
    blobs = {e.path: e.blob for e in git.ls_tree(head, root, sorted(files))}
    contents = dict(git.cat_blobs(sorted(set(blobs.values())), root))
    gone = {p for p, text in files.items() if text is None and p not in blobs}
    same = {
        p for p, b in blobs.items() if files[p] is not None and contents.get(b) == encoded(files[p])
    }
    return gone | same


def restore_files(
    root: Path, previous: dict[str, bytes | None], files: dict[str, str | None]
) -> None:
    """Put back what ``previous`` says the paths held, where they still hold what this
    process wrote, or are still gone where it removed them (another process may have
    written one since: its file stays)."""
    for path, content in previous.items():
        full = root / path
        try:
            now = full.read_bytes()
        except FileNotFoundError:
            now = None
        if now is not None and now != encoded(files[path]):
            continue
        if content is None:
            full.unlink(missing_ok=True)
            folder = full.parent
            while folder != root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        elif now is not None or files[path] is None:
            write_bytes_atomic(full, content)
