"""What changed from a commit (HEAD) to the work tree, for ``crm lint``'s last step:
git's raw changes of the tracked files, with renames detected, then the untracked
files, and the renames git cannot see (a record deleted and an untracked one much
like it).

Only a path the index changed or the check found edited can differ from HEAD, so git
is asked about those paths alone: the check has looked at every file of the work tree
already (``git diff-files``), and at 100,000 files a second look costs a third of a
second.  Both sides of a rename are among those paths, so git pairs them as it would
over every file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crmfiles import git
from crmfiles.records import CATALOG_DIR, RECORD_FOLDERS, classify
from crmfiles.records.worktree import WorkTree
from crmfiles.rules.base import Context

WATCHED = [CATALOG_DIR, *RECORD_FOLDERS]
_WATCHED_PREFIXES = tuple(f"{folder}/" for folder in WATCHED)


def work_tree_changes(
    root: Path, base: str, ctx: Context, index: Callable[[], list[str]] | None
) -> list[git.RawChange]:
    """``base`` against the work tree ``ctx`` checked (``index``: the paths the index
    changed against ``base``, asked already)."""
    raw = _tracked(root, base, ctx, index)
    raw += [git.RawChange("A", p, None, None, None) for p in _untracked(root, ctx)]
    return _pair_renames(root, raw, {c.path: ctx.text_for(c.path) for c in raw if c.status == "A"})


MANY_PATHS = 2000  # more paths that can differ: git looks at every file after all


def index_changes(root: Path, base: str) -> Callable[[], list[str]]:
    """The paths the index changed against ``base``, asked now (git reads the index
    and looks at no file); the function returned waits for them."""
    args = ["diff-index", "--cached", "--name-only", "-z", base, "--", *WATCHED]
    wait = git.start(root, args)
    return lambda: [p for p in wait()[0].decode("utf-8", "surrogateescape").split("\0") if p]


def _tracked(
    root: Path, base: str, ctx: Context, index: Callable[[], list[str]] | None
) -> list[git.RawChange]:
    """``base`` against the work tree's tracked files, with renames detected: git asked
    about the paths that can differ (see above), or about every file when the check's
    look is not at hand or names too many."""
    edited = ctx.source.edited_seen() if isinstance(ctx.source, WorkTree) else None
    if edited is None or index is None:
        return git.diff(root, base, None, paths=WATCHED)
    watched = (p for p in edited if p.startswith(_WATCHED_PREFIXES))
    paths = sorted({*index(), *watched})
    if len(paths) > MANY_PATHS:
        return git.diff(root, base, None, paths=WATCHED)
    return git.diff(root, base, None, paths=[f":(literal){p}" for p in paths]) if paths else []


def _untracked(root: Path, ctx: Context) -> list[str]:
    """The untracked files of the watched folders: as the check's look at the work tree
    found them, else from git."""
    seen = ctx.source.untracked_seen() if isinstance(ctx.source, WorkTree) else None
    if seen is None:
        return git.untracked(root, WATCHED)
    return [p for p in seen if p.startswith(_WATCHED_PREFIXES)]


RENAME_SIMILARITY = 0.5  # what `git diff -M` takes for a rename by default


def _pair_renames(
    root: Path, raw: list[git.RawChange], texts: dict[str, str | None]
) -> list[git.RawChange]:
    """Pair a deleted record with an untracked one of the same folder, as `git diff -M`
    pairs them once both are staged: git cannot see renames to untracked files, and an
    unstaged rename would otherwise pass for a deletion (of a file no longer there)."""
    from difflib import SequenceMatcher  # (only where files were renamed)

    gone = [c for c in raw if c.status == "D" and c.old_blob]
    added = [c for c in raw if c.status == "A" and c.new_blob is None and texts.get(c.path)]
    if not gone or not added:
        return raw
    old_texts = {
        blob: content.decode("utf-8", "replace")
        for blob, content in git.cat_blobs(sorted({c.old_blob for c in gone if c.old_blob}), root)
    }
    scored = []
    for old in gone:
        for new in added:
            before, after = classify(old.path), classify(new.path)
            if before is None or after is None or before.name != after.name:
                continue
            text = texts[new.path] or ""
            matcher = SequenceMatcher(None, old_texts.get(old.old_blob or "", ""), text)
            if matcher.quick_ratio() >= RENAME_SIMILARITY:
                ratio = matcher.ratio()
                if ratio >= RENAME_SIMILARITY:
                    scored.append((-ratio, old.path, new.path, old, new))
    paired: dict[str, git.RawChange] = {}
    used: set[str] = set()
    for _, _, _, old, new in sorted(scored, key=lambda s: s[:3]):
        if old.path not in paired and new.path not in used:
            paired[old.path] = git.RawChange("R", new.path, old.path, old.old_blob, None)
            used.add(new.path)
    return [
        *paired.values(),
        *(c for c in raw if c.path not in used and not (c.status == "D" and c.path in paired)),
    ]
