"""The permanence rules: what no step between two revisions may change.

A closed record stays as it was (a manager may reopen it), a closed opportunity takes
no new work, ids are permanent and records never deleted, an active quote changes
only by its outcome, and a catalog entry stays while records use it.  Each rule is a
plain function of one :class:`Step` and one :class:`Change` (or of the step alone),
yielding findings; how an opportunity moves through its stages is
:mod:`crmfiles.rules.transitions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.documents.lifecycle import OPEN_QUOTE
from crmfiles.records import RECORD_FOLDERS
from crmfiles.rules.registry import Check
from crmfiles.rules.step import Change, Step, change_finding, is_closed

CLOSING_KEYS = frozenset(
    {"status", "closed", "closed_on", "probability", "loss_reason", "loss_comment"}
)
SOURCE_LINKS = {
    "quotes": ("opportunity",),
    "orders": ("opportunity",),
    "interactions": ("opportunity",),
    "tasks": ("subject",),
}
#: documents still open: the revision itself says they have no closed source
OPEN_DOCUMENT = {"quotes": OPEN_QUOTE, "orders": frozenset({"open"})}


def closed_records(step: Step, change: Change) -> Iterator[Finding]:
    """closed-modified, and reopen-not-allowed for the one change it lets through."""
    old, new = change.old, change.new
    if not is_closed(old) or new is None:
        return
    assert old is not None
    if old == new and not change.renamed:
        return  # a reformat, a comment: the record's content is the same
    merges = _merges(step)
    if merges and _renamed_refs(old, merges) == new:
        return  # only references to a merged duplicate, now naming the one kept
    if not is_closed(new):
        reopened = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if reopened <= CLOSING_KEYS:
            if not step.is_manager():
                who = step.author_email or "you"
                yield change_finding(
                    "reopen-not-allowed",
                    change,
                    f"reopened by {who}, who is not a manager",
                    ("closed",),
                    "ask a manager (roles: [manager] in catalogs/people.yaml) to reopen",
                )
            return
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    pointer: tuple[str | int, ...] = (changed[0],) if changed and changed[0] in new else ()
    what = ", ".join(changed) if changed else "its file"
    yield change_finding(
        "closed-modified",
        change,
        f"closed record changed ({what})",
        pointer,
        "closed records are read-only; a manager may reopen it first",
    )


def closed_source(step: Step, change: Change) -> Iterator[Finding]:
    """closed-source for what only a step can tell: a task, an interaction or a quote
    made for an opportunity closed before it, an order for one closed as lost.  (An
    open quote of a closed opportunity, an open order of a lost one, are findings of
    the revision itself: rules/documents.py.)"""
    new = change.new
    if change.old is not None or new is None or change.folder not in SOURCE_LINKS:
        return
    link = new.get(SOURCE_LINKS[change.folder][0])
    pointer: tuple[str | int, ...] = (SOURCE_LINKS[change.folder][0],)
    if isinstance(link, dict):  # a task's subject: {type, id}
        if link.get("type") != "opportunity":
            return
        link, pointer = link.get("id"), (*pointer, "id")
    if change.folder == "orders" and not isinstance(link, str):
        quote = step.old_record("quotes", str(new.get("quote")))
        link = quote.get("opportunity") if quote is not None else None
    if not isinstance(link, str):
        return
    if new.get("status") in OPEN_DOCUMENT.get(change.folder, ()):
        return  # the revision's own finding
    opportunity = step.old_record("opportunities", link)
    if change.folder == "orders" and (opportunity or {}).get("status") != "lost":
        return  # a won deal's order comes after the close
    if is_closed(opportunity) and not _reopened_here(step, link):
        noun = change.folder.rstrip("s")
        yield change_finding(
            "closed-source",
            change,
            f"new {noun} for opportunity '{link}', which is closed",
            pointer,
            "closed opportunities take no new quotes, tasks or interactions; "
            "a manager may reopen it",
        )


def _reopened_here(step: Step, opportunity: str) -> bool:
    """The opportunity is open again after this very step (a reopen with its tasks)."""
    return any(
        c.folder == "opportunities" and c.id == opportunity and c.new and not is_closed(c.new)
        for c in step.changes
    )


MERGEABLE = ("partners", "contacts")


def merged_into(step: Step, folder: str, dropped: str) -> str | None:
    """The record of ``folder`` that lists ``dropped`` in its ``merged_from`` after this
    step (``crm merge``): the duplicate it replaces."""
    for c in step.changes:
        if c.folder == folder and c.new is not None and c.id != dropped:
            merged = c.new.get("merged_from")
            if isinstance(merged, list) and dropped in merged:
                return c.id
    return None


def _merges(step: Step) -> dict[str, str]:
    """Dropped id -> kept id, for every duplicate merged away in this step."""
    out: dict[str, str] = {}
    for c in step.changes:
        if c.new is None and c.folder in MERGEABLE:
            kept = merged_into(step, c.folder, c.id)
            if kept is not None:
                out[c.id] = kept
    return out


def _renamed_refs(value: Any, merges: dict[str, str]) -> Any:
    if isinstance(value, str):
        return merges.get(value, value)
    if isinstance(value, list):
        return [_renamed_refs(v, merges) for v in value]
    if isinstance(value, dict):
        return {k: _renamed_refs(v, merges) for k, v in value.items()}
    return value


def identity(step: Step, change: Change) -> Iterator[Finding]:
    """id-changed and record-deleted (but for a duplicate merged into another: lint's
    one-revision checks then hold that nothing refers to it any more)."""
    if change.new is None:
        if change.folder in MERGEABLE and merged_into(step, change.folder, change.id):
            return
        yield Finding(
            "record-deleted",
            change.path,
            f"{RECORD_FOLDERS.get(change.folder, change.folder)} '{change.id}' was deleted",
            line=1,
            column=1,
            record=change.id,
            hint="records are never deleted: close, disqualify or mark them instead",
        )
        return
    if change.renamed and change.old_path:
        old_id = change.old_path.rsplit("/", 1)[-1].removesuffix(".yaml")
        if old_id != change.id:
            yield change_finding(
                "id-changed",
                change,
                f"record renamed from '{old_id}' ({change.old_path}) to '{change.id}'",
                ("id",),
                "ids are permanent; keep the old file name and id",
            )


def active_quotes(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "quotes" or not old or not new or old.get("status") != "active":
        return
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    # the outcome is all that may change: the status, and with a loss, its reason
    outcome = {"status", "loss_reason"} if new.get("status") == "lost" else {"status"}
    allowed = "status" in changed and set(changed) <= outcome
    allowed = allowed and new.get("status") in ("won", "lost", "revised")
    if changed and not allowed:
        pointer: tuple[str | int, ...] = (changed[0],) if changed[0] in new else ()
        yield change_finding(
            "quote-active-modified",
            change,
            f"active quote changed ({', '.join(changed)})",
            pointer,
            "an active quote is read-only: win, lose or revise it (a revision is a new quote file)",
        )


IN_USE_CATALOGS = {"stages": "stage", "kinds": "kind", "loss-reasons": "loss_reason"}


def catalog_in_use(step: Step) -> Iterator[Finding]:
    """stage-in-use: a stage, kind or loss reason removed while records still use it."""
    for name, field_name in IN_USE_CATALOGS.items():
        before = step.old_catalogs.get(name)
        after = step.new_catalogs.get(name)
        if before is None or after is None:
            continue
        for entry in sorted(set(before) - set(after)):
            count = step.usage(field_name, entry)
            if count:
                path = step.catalog_paths.get(name, f"catalogs/{name}.yaml")
                yield Finding(
                    "stage-in-use",
                    path,
                    f"{field_name.replace('_', ' ')} '{entry}' was removed but "
                    f"{count} record{'s' if count != 1 else ''} still "
                    f"use{'s' if count == 1 else ''} it",
                    line=1,
                    column=1,
                    hint="move those records off it first, or keep the entry",
                )


_TRANSITION = frozenset({"base"})
CHECKS = (
    Check(
        closed_records,
        ("closed-modified", "reopen-not-allowed"),
        "step",
        depends=frozenset({"base", "history"}),
    ),
    Check(closed_source, ("closed-source",), "step", depends=_TRANSITION),
    Check(identity, ("id-changed", "record-deleted"), "step", depends=_TRANSITION),
    Check(active_quotes, ("quote-active-modified",), "step", depends=_TRANSITION),
    Check(catalog_in_use, ("stage-in-use",), "step", depends=_TRANSITION, per_change=False),
)
