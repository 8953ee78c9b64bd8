"""The stage-transition rules: how an opportunity may move between two revisions.

Each rule is a plain function of one :class:`Step` (two revisions and who made the
change) and one :class:`Change` (a record's before and after), yielding findings.
The one-revision rules of ``crm validate`` run on the head separately; nothing here
repeats them.  What no step may change at all (closed records, ids, active quotes) is
:mod:`crmfiles.rules.permanence`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.money import amount_of
from crmfiles.rules.registry import Check
from crmfiles.rules.step import (
    Change,
    Step,
    change_finding,
    is_closed,
    is_finished,
    kind_of,
    stages_of,
)

# --- the rules -------------------------------------------------------------------


def stage_order(step: Step, change: Change) -> Iterator[Finding]:
    """stage-skip and stage-back, for standard kinds."""
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    kind = kind_of(step, new)
    if kind.get("type") != "standard" or old.get("kind") != new.get("kind"):
        return
    stages = stages_of(kind)
    before, after = old.get("stage"), new.get("stage")
    if before not in stages or after not in stages or before == after:
        return
    i, j = stages.index(str(before)), stages.index(str(after))
    if j > i + 1:
        skipped = ", ".join(f"'{s}'" for s in stages[i + 1 : j])
        yield change_finding(
            "stage-skip",
            change,
            f"stage moved from '{before}' to '{after}', skipping {skipped}",
            ("stage",),
            f"move to '{stages[i + 1]}' first; a standard sale goes through every stage",
        )
    elif j < i:
        yield change_finding(
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
    kind = kind_of(step, new)
    stages = stages_of(kind)
    if kind.get("type") == "standard" and stages and new.get("stage") != stages[-1]:
        yield change_finding(
            "won-before-last-stage",
            change,
            f"won in stage '{new.get('stage')}', before the last stage '{stages[-1]}'",
            ("status",),
            f"move to '{stages[-1]}' first, then close as won",
        )


def kind_rules(step: Step, change: Change) -> Iterator[Finding]:
    """kind-not-allowed (new opportunities) and kind-changed (after the first stage)."""
    old, new = change.old, change.new
    if change.folder != "opportunities" or new is None:
        return
    if old is None:
        kind = kind_of(step, new)
        if kind and kind.get("allowed") is False:
            yield change_finding(
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
    stages = stages_of(old_kind)
    if stages and old.get("stage") not in (None, stages[0]):
        yield change_finding(
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
    kind = kind_of(step, new)
    stages = stages_of(kind)
    if kind.get("type") != "standard" or not stages:
        return
    stage = new.get("stage")
    origin = new.get("origin")
    if stage is None or stage == stages[0] or stage not in stages:
        return  # stage-missing / stage-not-in-kind say the rest
    if isinstance(origin, dict) and origin.get("type") == "import":
        return
    yield change_finding(
        "stage-start",
        change,
        f"a new '{new.get('kind')}' opportunity starts at '{stages[0]}', not '{stage}'",
        ("stage",),
        f"create it at '{stages[0]}' and move it on; a standard kind goes through every stage",
    )


def primary_demand(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if change.folder != "opportunities" or not old or not new:
        return
    kind = kind_of(step, new)
    stages = stages_of(kind)
    if not kind.get("record_primary_demand") or not stages:
        return
    if old.get("stage") == stages[0] and new.get("stage") not in (None, stages[0]):
        lines = new.get("lines")
        if not isinstance(lines, list) or not lines:
            yield change_finding(
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
        yield change_finding(
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
    closing = (is_finished(new) and not is_finished(old)) or (is_closed(new) and not is_closed(old))
    if not closing:
        return
    quotes = step.open_quotes(change.id)
    if quotes:
        yield change_finding(
            "close-with-open-quotes",
            change,
            f"closed while quote{'s' if len(quotes) > 1 else ''} "
            f"{', '.join(quotes)} {'are' if len(quotes) > 1 else 'is'} still open",
            ("status",),
            "win, lose or revise the open quotes first",
        )


def author_allowed(step: Step, change: Change) -> Iterator[Finding]:
    old, new = change.old, change.new
    if not step.range_mode or change.folder != "opportunities" or not old or not new:
        return
    moved = old.get("stage") != new.get("stage")
    closing = (is_finished(new) and not is_finished(old)) or (is_closed(new) and not is_closed(old))
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
    yield change_finding(
        "author-not-allowed",
        change,
        f"{what} by {who}; responsible is '{old.get('responsible')}'",
        ("status",) if closing else ("stage",),
        "stage changes and closes come from the responsible person, the team or a manager",
    )


_TRANSITION = frozenset({"base"})
CHECKS = (
    Check(stage_order, ("stage-skip", "stage-back"), "step", depends=_TRANSITION),
    Check(won_at_last_stage, ("won-before-last-stage",), "step", depends=_TRANSITION),
    Check(kind_rules, ("kind-not-allowed", "kind-changed"), "step", depends=_TRANSITION),
    Check(stage_start, ("stage-start",), "step", depends=_TRANSITION),
    Check(primary_demand, ("demand-missing",), "step", depends=_TRANSITION),
    Check(stage_requirements, ("stage-requirements",), "step", depends=_TRANSITION),
    Check(open_quotes_on_close, ("close-with-open-quotes",), "step", depends=_TRANSITION),
    Check(author_allowed, ("author-not-allowed",), "step", depends=frozenset({"base", "history"})),
)
