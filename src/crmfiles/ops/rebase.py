"""An operation's edits moved onto a HEAD that moved while it worked.

Another crm command (or a ``git commit``) made a commit after this operation read its
files.  Files that commit did not touch keep the operation's text; a record it
changed gets the operation's changed fields laid over the new version, field by
field; a field both changed (to different values) is refused, with the commit that
changed it, and nothing is written; so is a file the operation removes that the
commit changed or removed.  The caller then checks the rules again against
the new HEAD and commits on top of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmfiles import git
from crmfiles.ops.result import Refused
from crmfiles.ops.workspace import Workspace
from crmfiles.records.edit import DELETE, set_fields
from crmfiles.records.yamlio import ParseError, parse


def rebase(
    ws: Workspace,
    texts: dict[str, str],
    created: list[str],
    head: str | None,
    *,
    removed: Sequence[str] = (),
) -> None:
    """Move ``texts`` (path -> new text, edited in place) and the removal of
    ``removed`` from ``ws.head`` onto ``head``."""
    paths = sorted(texts)
    base = ws.head_texts([*paths, *removed])
    ws.move_head(head)
    theirs = ws.head_texts([*paths, *removed])
    changed = [p for p in paths if theirs[p] != base[p]]
    touched = [p for p in removed if theirs[p] != base[p]]
    if touched:
        raise Refused(
            f"{touched[0]} was changed meanwhile by {_who(ws, head, touched[0])}, and this "
            "command removes it; nothing was written",
            hint="run the command again: it starts from the new version",
        )
    if not changed:
        return
    by = _who(ws, head, changed[0])
    for path in changed:
        old, new = base[path], theirs[path]
        if path in created or old is None or new is None:
            raise Refused(
                f"{path} was {'created' if old is None else 'removed'} meanwhile by {by}; "
                "nothing was written",
                hint="run the command again: it starts from the new version",
            )
        texts[path] = _merge(path, old, texts[path], new, by)
    if all(texts[p] == theirs[p] for p in paths):
        raise Refused(
            f"{by} made this same change meanwhile; nothing was written",
            hint="`crm show` the record to see it",
        )


def _who(ws: Workspace, head: str | None, path: str) -> str:
    """The latest commit that changed ``path``, as a person reads it."""
    if head is None:
        return "another commit"
    line = git.out(["log", "-1", "--format=%h (%an: %s)", head, "--", path], ws.root).strip()
    return f"commit {line}" if line else f"commit {head[:7]}"


def _fields(path: str, text: str) -> dict[str, Any]:
    try:
        data = parse(text)
    except ParseError:
        data = None
    if not isinstance(data, dict):
        raise Refused(f"{path} is not a record (a YAML mapping) at HEAD; nothing was written")
    return data


def _merge(path: str, base_text: str, ours_text: str, theirs_text: str, by: str) -> str:
    """``theirs_text`` with the top-level fields ``ours_text`` changed from
    ``base_text`` set as ours has them."""
    base, ours, theirs = (_fields(path, t) for t in (base_text, ours_text, theirs_text))
    missing = object()

    def changes(side: dict[str, Any]) -> dict[str, Any]:
        keys = [*base, *(k for k in side if k not in base)]
        return {
            k: side.get(k, missing) for k in keys if base.get(k, missing) != side.get(k, missing)
        }

    mine, other = changes(ours), changes(theirs)
    both = [k for k in mine if k in other and mine[k] != other[k]]
    if both:
        fields = ", ".join(f"`{k}`" for k in both)
        raise Refused(
            f"{path}: {by} changed {fields} meanwhile, and so does this command; "
            "nothing was written",
            hint="run the command again if it still applies to the new version",
        )
    structural = [k for k, v in mine.items() if isinstance(v, (dict, list))]
    if structural:
        raise Refused(
            f"{path} was changed meanwhile by {by}, and this command's change to "
            f"`{structural[0]}` cannot be laid over it; nothing was written",
            hint="run the command again: it starts from the new version",
        )
    return set_fields(theirs_text, {k: DELETE if v is missing else v for k, v in mine.items()})
