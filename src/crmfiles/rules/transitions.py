"""The lifecycle rules: what may change between two revisions of a record.

Each rule is a plain function of one :class:`Step` (two revisions and who made the
change) and one :class:`Change` (a record's before and after), yielding findings.
The one-revision rules of ``crm validate`` run on the head separately; nothing here
repeats them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.documents.lifecycle import OPEN_QUOTE
from crmfiles.money import amount_of
from crmfiles.records import RECORD_FOLDERS
from crmfiles.rules.registry import Check

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


@dataclass
class Change:
    folder: str
    id: str
    path: str  # where the record is after the change (before it, for a deletion)
    old_path: str | None
    old: dict[str, Any] | None  # None: the record is new
    new: dict[str, Any] | None  # None: the record was deleted
    status: str  # A M D R

    @property
    def renamed(self) -> bool:
        return self.old_path is not None and self.old_path != self.path


@dataclass
class Step:
    """One step of history: a commit against its parent, or base against the head."""

    changes: list[Change]
    old_catalogs: dict[str, dict[str, dict[str, Any]]]
    new_catalogs: dict[str, dict[str, dict[str, Any]]]
    commit: str | None = None
    author_email: str | None = None
    author_name: str | None = None
    range_mode: bool = False  # author-not-allowed applies to commits only
    old_record: Callable[[str, str], dict[str, Any] | None] = lambda folder, rid: None
    open_quotes: Callable[[str], list[str]] = lambda opportunity: []
    usage: Callable[[str, str], int] = lambda target, entry: 0
    catalog_paths: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # new texts, for positions
    # a merge's records that only combine both parents lawfully (merge/combined.py)
    combined: frozenset[str] = frozenset()

    def person(self) -> dict[str, Any] | None:
        """The person in catalogs/people.yaml whose e-mail made this step, as the
        catalog stood before it: nobody gains a role in the change that needs it."""
        email = (self.author_email or "").casefold()
        for person in self.old_catalogs.get("people", {}).values():
            emails = person.get("emails")
            if isinstance(emails, list) and email in (str(e).casefold() for e in emails):
                return person
        return None

    def is_manager(self) -> bool:
        person = self.person()
        roles = person.get("roles") if person else None
        return isinstance(roles, list) and ("manager" in roles or "admin" in roles)


def _find(
    rule: str,
    change: Change,
    message: str,
    pointer: tuple[str | int, ...] = (),
    hint: str | None = None,
) -> Finding:
    return Finding(
        rule=rule, path=change.path, message=message, pointer=pointer, hint=hint, record=change.id
    )


def _kind(step: Step, data: dict[str, Any] | None) -> dict[str, Any]:
    kind = step.new_catalogs.get("kinds", {}).get(str((data or {}).get("kind")))
    return kind or {}


def _stages(kind: dict[str, Any]) -> list[str]:
    stages = kind.get("stages")
    return [str(s) for s in stages] if isinstance(stages, list) else []


def _closed(data: dict[str, Any] | None) -> bool:
    return bool(data) and (data or {}).get("closed") is True


def _finished(data: dict[str, Any] | None) -> bool:
    return (data or {}).get("status") in ("won", "lost")


# --- the rules -------------------------------------------------------------------


def stage_order(step: Step, change: Change) -> Iterator[Finding]:
    """stage-skip and stage-back, for standard kinds."""
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    kind = _kind(step, new)
    if kind.get("type") != "standard" or old.get("kind") != new.get("kind"):
        return
    stages = _stages(kind)
    before, after = old.get("stage"), new.get("stage")
    if before not in stages or after not in stages or before == after:
        return
    i, j = stages.index(str(before)), stages.index(str(after))
    if j > i + 1:
        skipped = ", ".join(f"'{s}'" for s in stages[i + 1 : j])
        yield _find(
            "stage-skip",
            change,
            f"stage moved from '{before}' to '{after}', skipping {skipped}",
            ("stage",),
            f"move to '{stages[i + 1]}' first; a standard sale goes through every stage",
        )
    elif j < i:
        yield _find(
            "stage-back",
            change,
            f"stage moved back from '{before}' to '{after}'",
            ("stage",),
            "a standard sale only moves forward; if the deal really went "
            "back, close it as lost and open a new one, or use a custom kind",
        )


def won_at_last_stage(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    if new.get("status") != "won" or old.get("status") == "won":
        return
    kind = _kind(step, new)
    stages = _stages(kind)
    if kind.get("type") == "standard" and stages and new.get("stage") != stages[-1]:
        yield _find(
            "won-before-last-stage",
            change,
            f"won in stage '{new.get('stage')}', before the last stage '{stages[-1]}'",
            ("status",),
            f"move to '{stages[-1]}' first, then close as won",
        )


def closed_records(step: Step, change: Change) -> Iterator[Finding]:
    """closed-modified, and reopen-not-allowed for the one change it lets through."""
    old, new = change.old, change.new
    if not _closed(old) or new is None:
        return
    assert old is not None
    if old == new and not change.renamed:
        return  # a reformat, a comment: the record's content is the same
    merges = _merges(step)
    if merges and _renamed_refs(old, merges) == new:
        return  # only references to a merged duplicate, now naming the one kept
    if not _closed(new):
        reopened = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if reopened <= CLOSING_KEYS:
            if not step.is_manager():
                who = step.author_email or "you"
                yield _find(
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
    yield _find(
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
    if _closed(opportunity) and not _reopened_here(step, link):
        noun = change.folder.rstrip("s")
        yield _find(
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
        c.folder == "opportunities" and c.id == opportunity and c.new and not _closed(c.new)
        for c in step.changes
    )


def kind_rules(step: Step, change: Change) -> Iterator[Finding]:
    """kind-not-allowed (new opportunities) and kind-changed (after the first stage)."""
    old, new = change.old, change.new
    if change.folder != "opportunities" or new is None:
        return
    if old is None:
        kind = _kind(step, new)
        if kind and kind.get("allowed") is False:
            yield _find(
                "kind-not-allowed",
                change,
                f"kind '{new.get('kind')}' is no longer allowed for new opportunities",
                ("kind",),
                "pick a kind with allowed: true in catalogs/kinds.yaml",
            )
        return
    if old.get("kind") == new.get("kind"):
        return
    old_kind = step.old_catalogs.get("kinds", {}).get(str(old.get("kind"))) or {}
    stages = _stages(old_kind)
    if stages and old.get("stage") not in (None, stages[0]):
        yield _find(
            "kind-changed",
            change,
            f"kind changed from '{old.get('kind')}' to '{new.get('kind')}' after "
            f"leaving the first stage '{stages[0]}'",
            ("kind",),
            "the kind can change only in the first stage; open a new opportunity",
        )


def stage_start(step: Step, change: Change) -> Iterator[Finding]:
    """stage-start: a new opportunity of a standard kind begins at the kind's first
    stage (an import, ``origin: {type: import}``, brings deals already under way)."""
    new = change.new
    if change.folder != "opportunities" or change.old is not None or new is None:
        return
    if not step.old_catalogs.get("kinds"):
        return  # the repository's creation (no kinds before it): deals brought along
    kind = _kind(step, new)
    stages = _stages(kind)
    if kind.get("type") != "standard" or not stages:
        return
    stage = new.get("stage")
    origin = new.get("origin")
    if stage is None or stage == stages[0] or stage not in stages:
        return  # stage-missing / stage-not-in-kind say the rest
    if isinstance(origin, dict) and origin.get("type") == "import":
        return
    yield _find(
        "stage-start",
        change,
        f"a new '{new.get('kind')}' opportunity starts at '{stages[0]}', not '{stage}'",
        ("stage",),
        f"create it at '{stages[0]}' and move it on; a standard kind goes through every stage",
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
            yield _find(
                "id-changed",
                change,
                f"record renamed from '{old_id}' ({change.old_path}) to '{change.id}'",
                ("id",),
                "ids are permanent; keep the old file name and id",
            )


def primary_demand(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    kind = _kind(step, new)
    stages = _stages(kind)
    if not kind.get("record_primary_demand") or not stages:
        return
    if old.get("stage") == stages[0] and new.get("stage") not in (None, stages[0]):
        lines = new.get("lines")
        if not isinstance(lines, list) or not lines:
            yield _find(
                "demand-missing",
                change,
                f"left the first stage '{stages[0]}' without lines (kind "
                f"'{new.get('kind')}' requires primary demand)",
                ("stage",),
                "add the products or services asked for under lines: first",
            )


_FILLED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "amount": lambda d: amount_of(d) is not None,
    "lines": lambda d: isinstance(d.get("lines"), list) and bool(d.get("lines")),
    "contacts": lambda d: isinstance(d.get("contacts"), list) and bool(d.get("contacts")),
    "competitors": lambda d: isinstance(d.get("competitors"), list) and bool(d.get("competitors")),
}


def stage_requirements(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "opportunities" or not new or not new.get("stage"):
        return
    if old is not None and old.get("stage") == new.get("stage"):
        return
    stage = step.new_catalogs.get("stages", {}).get(str(new.get("stage"))) or {}
    requires = stage.get("requires")
    if not isinstance(requires, list):
        return
    missing = [
        str(field)
        for field in requires
        if not _FILLED.get(str(field), lambda d, f=str(field): d.get(f) not in (None, "", [], {}))(
            new
        )
    ]
    if missing:
        yield _find(
            "stage-requirements",
            change,
            f"stage '{new['stage']}' requires {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} empty",
            ("stage",),
            f"fill {', '.join(missing)} before moving to '{new['stage']}'",
        )


def open_quotes_on_close(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    closing = (_finished(new) and not _finished(old)) or (_closed(new) and not _closed(old))
    if not closing:
        return
    quotes = step.open_quotes(change.id)
    if quotes:
        yield _find(
            "close-with-open-quotes",
            change,
            f"closed while quote{'s' if len(quotes) > 1 else ''} "
            f"{', '.join(quotes)} {'are' if len(quotes) > 1 else 'is'} still open",
            ("status",),
            "win, lose or revise the open quotes first",
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
        yield _find(
            "quote-active-modified",
            change,
            f"active quote changed ({', '.join(changed)})",
            pointer,
            "an active quote is read-only: win, lose or revise it (a revision is a new quote file)",
        )


def author_allowed(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if not step.range_mode or change.folder != "opportunities" or not old or not new:
        return
    moved = old.get("stage") != new.get("stage")
    closing = (_finished(new) and not _finished(old)) or (_closed(new) and not _closed(old))
    if not (moved or closing) or step.is_manager():
        return
    person = step.person()
    listed = old.get("team")
    team: list[Any] = listed if isinstance(listed, list) else []
    allowed = {old.get("responsible"), *team}
    if person is not None and person.get("id") in allowed:
        return
    who = (
        f"{person.get('id')} ({step.author_email})"
        if person
        else (f"{step.author_email}, who is not in catalogs/people.yaml")
    )
    what = "closed" if closing else "stage changed"
    yield _find(
        "author-not-allowed",
        change,
        f"{what} by {who}; responsible is '{old.get('responsible')}'",
        ("status",) if closing else ("stage",),
        "stage changes and closes come from the responsible person, the team or a manager",
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
    Check(stage_order, ("stage-skip", "stage-back"), "step", depends=_TRANSITION),
    Check(won_at_last_stage, ("won-before-last-stage",), "step", depends=_TRANSITION),
    Check(
        closed_records,
        ("closed-modified", "reopen-not-allowed"),
        "step",
        depends=frozenset({"base", "history"}),
    ),
    Check(closed_source, ("closed-source",), "step", depends=_TRANSITION),
    Check(kind_rules, ("kind-not-allowed", "kind-changed"), "step", depends=_TRANSITION),
    Check(stage_start, ("stage-start",), "step", depends=_TRANSITION),
    Check(identity, ("id-changed", "record-deleted"), "step", depends=_TRANSITION),
    Check(primary_demand, ("demand-missing",), "step", depends=_TRANSITION),
    Check(stage_requirements, ("stage-requirements",), "step", depends=_TRANSITION),
    Check(open_quotes_on_close, ("close-with-open-quotes",), "step", depends=_TRANSITION),
    Check(active_quotes, ("quote-active-modified",), "step", depends=_TRANSITION),
    Check(author_allowed, ("author-not-allowed",), "step", depends=frozenset({"base", "history"})),
    Check(catalog_in_use, ("stage-in-use",), "step", depends=_TRANSITION, per_change=False),
)
