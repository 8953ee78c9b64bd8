"""``crm merge-driver BASE OURS THEIRS PATH``: git's merge driver for CRM files.

git calls it (``merge=crm`` in ``.gitattributes``, ``merge.crm.driver`` in the clone's
config) for a file both sides changed, with three temporary files: the merge base,
ours (where the result goes) and theirs, plus the file's path in the repository.  The
exit status tells git whether the file merged cleanly (0) or holds conflicts (1).

A record, a catalog or ``crm.yaml`` merges field by field (:mod:`crmfiles.merge.text`);
anything else, and any file a field-level merge cannot be trusted with (a file that
is not YAML, a flow-style file, a merge that would not read back), gets git's own
line merge, ``git merge-file``: the driver is never worse than git without it.
"""

from __future__ import annotations

from pathlib import Path

from crmfiles import git
from crmfiles.merge.text import MARKER_SIZE, merge_text
from crmfiles.records import classify
from crmfiles.records.edit import write_atomic

LABELS = ("ours", "base", "theirs")


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def merge_files(base: Path, ours: Path, theirs: Path, name: str) -> int:
    """Merge ``theirs`` into ``ours`` (in place) from ``base``; 0 clean, 1 conflicts."""
    if classify(name.replace("\\", "/")) is not None:
        texts = [_read(p) for p in (base, ours, theirs)]
        if all(t is not None for t in texts):
            base_text, ours_text, theirs_text = (str(t) for t in texts)
            bom = ours_text.startswith("\ufeff")
            merged = merge_text(
                base_text.removeprefix("\ufeff"),
                ours_text.removeprefix("\ufeff"),
                theirs_text.removeprefix("\ufeff"),
            )
            if merged is not None:
                if merged.text != ours_text:
                    write_atomic(ours, ("\ufeff" if bom else "") + merged.text)
                return 1 if merged.conflicts else 0
    return line_merge(base, ours, theirs)


def line_merge(base: Path, ours: Path, theirs: Path) -> int:
    """git's own three-way line merge, into ``ours``."""
    labels = [arg for label in LABELS for arg in ("-L", label)]
    # `git merge-file` ignores merge.conflictStyle; the user's choice still holds here
    style = git.run(["config", "merge.conflictStyle"], ours.parent, check=False)
    chosen = style.stdout.decode("utf-8", "replace").strip()
    options = [f"--{chosen}"] if chosen in ("diff3", "zdiff3") else []
    files = [str(ours), str(base), str(theirs)]
    proc = git.run(
        ["merge-file", f"--marker-size={MARKER_SIZE}", *options, *labels, *files],
        ours.parent,
        check=False,
    )
    return 0 if proc.returncode == 0 else 1
