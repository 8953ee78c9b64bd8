"""``crm merge partner|contact KEEP DROP``: two records of one company or person
become one.

Every reference to DROP, in every record of every type (closed ones included), is
rewritten to KEEP where it stands in the text, so comments, quotes and layout stay;
KEEP gains DROP's top-level fields it lacks, the union of list fields both have
(KEEP's items first), the keys of a mapping (``custom``) it lacks, and DROP's id in
``merged_from``; DROP's file is removed.  All of it is one commit with a
``Crm-Merged: DROP -> KEEP`` trailer, which lint lets through: the dropped id has no
reference left and the record kept names it in ``merged_from``.

The references are found through the schemas' ``x-ref`` (:func:`crmfiles.schema_refs.
extract_refs`).  No catalog refers to partners or contacts (a test holds this), so
only records are read: those whose text can name DROP (``git grep``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmfiles import lazy_module
from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.runner import operation
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.ops.yamltext import set_values
from crmfiles.records import RECORD_FOLDERS, classify
from crmfiles.records.yamlio import ParseError, compose
from crmfiles.schema_refs import extract_refs

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

MERGEABLE = {"partner": "partners", "contact": "contacts"}
OWN = ("id", "merged_from")  # fields of DROP never carried to KEEP


def plan_merge(ws: Workspace, folder: str, keep: str, drop: str) -> Plan:
    """Merge record ``drop`` of ``folder`` (``partners``/``partner``, ``contacts``/
    ``contact``) into ``keep`` (see the module's docstring)."""
    folder = MERGEABLE.get(folder, folder)
    if folder not in MERGEABLE.values():
        raise CrmError(
            f"crm merge merges partners or contacts, not {folder}",
            hint="crm merge partner KEEP DROP, or crm merge contact KEEP DROP",
        )
    kind = RECORD_FOLDERS[folder]
    if keep == drop:
        raise CrmError(
            f"KEEP and DROP are the same {kind} '{keep}'",
            hint=f"name the {kind} to keep, then its duplicate to merge into it",
        )
    kept = ws.find(keep, (folder,))
    dropped = ws.find(drop, (folder,))
    texts, count = _rewritten(ws.root, folder, drop, keep, skip=dropped.path)
    records = len(texts)
    changes, differing = _carried(kept, dropped)
    text = texts.get(kept.path, kept.text)
    for key, value in changes.items():  # (one at a time: new keys in this order)
        text = set_values(text, {key: value})
    texts[kept.path] = text
    notes = []
    if differing:
        fields = ", ".join(differing)
        notes.append(f"  {drop} had other values for {fields}: {keep}'s are kept")
    plural = "s" if count != 1 else ""
    return Plan(
        verb="merge",
        record=keep,
        texts=texts,
        created=[],
        removed=[dropped.path],
        subject=subject("merge", kind, drop, "->", keep),
        trailers=[("Crm-Record", kept.path), ("Crm-Merged", f"{drop} -> {keep}")],
        branch=branch_for(keep, "merge"),
        summary=f"merged {kind} {drop} into {keep}: {count} reference{plural} in "
        f"{records} record{'s' if records != 1 else ''} rewritten, {dropped.path} removed",
        notes=notes,
    )


merge = operation(plan_merge)


def _rewritten(
    root: Path, folder: str, drop: str, keep: str, *, skip: str
) -> tuple[dict[str, str], int]:
    """The new text of every record that refers to ``drop`` (of ``folder``), with
    each such reference renamed to ``keep``; and how many references there were."""
    from crmfiles.records.store import read_record
    from crmfiles.records.worktree import WorkTree

    texts: dict[str, str] = {}
    count = 0
    seen: set[tuple[str, str]] = set()  # (folder, id): each id's first file, as a read
    for raw in WorkTree(root).files_at(_naming(root, drop)):
        place = classify(raw.path)
        if place is None or place.kind != "record" or raw.path == skip:
            continue
        record, _ = read_record(raw, place)
        if record is None or (place.name, place.id) in seen:
            continue
        seen.add((place.name, place.id))
        pointers = [
            pointer
            for pointer, target, ref in extract_refs(RECORD_FOLDERS[place.name], record.data)
            if target == folder and ref == drop
        ]
        if pointers:
            texts[record.path] = _rewrite_record(
                record.path, record.text, record.data, pointers, drop, keep
            )
            count += len(pointers)
    return texts, count


def _naming(root: Path, drop: str) -> list[str]:
    """The record files that may refer to ``drop``, in path order: those whose text
    holds the id, or a backslash (a YAML scalar equal to an id spells it out, unless
    a double-quoted one writes it with escapes).  ``git grep`` looks (the work tree's
    tracked and untracked files), so 100,000 records are not parsed for a handful."""
    from crmfiles import git

    found = git.run(
        ["grep", "-l", "-z", "-F", "--untracked", "-e", drop, "-e", "\\", "--", *RECORD_FOLDERS],
        root,
        check=False,
    )
    if found.returncode not in (0, 1):  # (1: nothing found)
        raise CrmError(f"git grep failed: {found.stderr.decode(errors='replace').strip()}")
    return sorted(p for p in found.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def _rewrite_record(
    path: str,
    text: str,
    data: dict[str, Any],
    pointers: list[tuple[str | int, ...]],
    drop: str,
    keep: str,
) -> str:
    """``text`` with every reference to ``drop`` renamed to ``keep``; a top-level list
    of ids that names both (a deal with both contacts) keeps ``keep`` once instead of
    naming it twice, which its schema (unique items) would refuse."""
    in_both: dict[str, list[Any]] = {}
    for pointer in pointers:
        key = pointer[0]
        if len(pointer) == 2 and isinstance(key, str) and isinstance(data.get(key), list):
            items = data[key]
            if keep in items and key not in in_both:
                in_both[key] = [item for item in items if item != drop]
    renamed = [p for p in pointers if not (len(p) == 2 and p[0] in in_both)]
    if renamed:
        text = _renamed(path, text, renamed, keep)
    for key, items in in_both.items():
        text = set_values(text, {key: items})
    return text


def _renamed(path: str, text: str, pointers: list[tuple[str | int, ...]], new: str) -> str:
    """``text`` with the scalar at each pointer replaced by ``new`` in its source (a
    quoted one keeps its quotes)."""
    try:
        root = compose(text)
    except ParseError as err:
        raise CrmError(
            f"{path}: {err.message}", hint="fix the file first (`crm validate`)"
        ) from None
    edits: list[tuple[int, int, str]] = []
    for pointer in pointers:
        node = _node_at(root, pointer)
        if not isinstance(node, yaml.ScalarNode):
            raise CrmError(f"{path}: cannot find the reference at {'/'.join(map(str, pointer))}")
        start, end = node.start_mark.index, node.end_mark.index
        if node.style in ("'", '"'):
            edits.append((start + 1, end - 1, new))
        elif node.style in ("|", ">"):
            edits.append((start, end, f"{new}\n"))
        else:
            edits.append((start, end, new))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _node_at(root: yaml.Node | None, pointer: tuple[str | int, ...]) -> yaml.Node | None:
    node = root
    for part in pointer:
        if isinstance(node, yaml.MappingNode):
            node = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            return None
    return node


def _carried(kept: RecordFile, dropped: RecordFile) -> tuple[dict[str, Any], list[str]]:
    """The fields KEEP takes from DROP, and the fields where DROP's value, which KEEP
    keeps its own of, differed."""
    mine, theirs = kept.data, dropped.data
    changes: dict[str, Any] = {}
    differing: list[str] = []
    for key, value in theirs.items():
        if key in OWN:
            continue
        if key not in mine:
            changes[key] = value
        elif isinstance(mine[key], list) and isinstance(value, list):
            union = [*mine[key], *(v for v in value if v not in mine[key])]
            if union != mine[key]:
                changes[key] = union
        elif isinstance(mine[key], dict) and isinstance(value, dict):
            extra = {k: v for k, v in value.items() if k not in mine[key]}
            if extra:
                changes[key] = {**mine[key], **extra}
            if any(k in mine[key] and mine[key][k] != v for k, v in value.items()):
                differing.append(key)
        elif mine[key] != value:
            differing.append(key)
    previous = mine.get("merged_from")
    merged = list(previous) if isinstance(previous, list) else []
    inherited = theirs.get("merged_from")
    for each in [*(inherited if isinstance(inherited, list) else []), dropped.id]:
        if each not in merged and each != kept.id:
            merged.append(each)
    changes["merged_from"] = merged
    return changes, differing
