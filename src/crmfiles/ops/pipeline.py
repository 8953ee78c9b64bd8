"""Working an opportunity through the pipeline: move, close, reopen, duplicate.

Each edits the record's text in place (a move is the ``stage`` line and, when the
default applies, the ``probability`` line), and leaves every judgement the rules make
to the rules: a skipped stage, winning too early, reopening without being a manager
are refused by the same checks as ``crm lint``.  What is checked here is only what
the rules cannot say: that the stage, the reason, the record exist.
"""

from __future__ import annotations

import difflib
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.init import SCHEMA_COMMENT, with_schema_comment
from crmfiles.ops.new import stage_probability, stage_tasks, stages_of, with_entry_tasks
from crmfiles.ops.runner import Alternatives, operation
from crmfiles.ops.workspace import RecordFile, Workspace, slug
from crmfiles.ops.yamltext import set_values
from crmfiles.records.edit import DELETE
from crmfiles.records.yamlio import ParseError, parse

OPPORTUNITIES = ("opportunities",)
NAME_ATTEMPTS = 9


def _opportunity(ws: Workspace, record_id: str) -> RecordFile:
    return ws.find(record_id, OPPORTUNITIES)


def _kind_stages(ws: Workspace, record: RecordFile) -> list[str]:
    kind_id = record.data.get("kind")
    kind = ws.catalog("kinds").get(str(kind_id))
    if kind is None:
        raise CrmError(
            f"{record.id} has kind '{kind_id}', which catalogs/kinds.yaml does not list",
            hint="`crm validate` reports it; fix the kind first",
        )
    return stages_of(kind)


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def _set_by_hand(ws: Workspace, now: dict[str, Any], committed: dict[str, Any] | None) -> bool:
    """Whether a person set the probability without a stage change: HEAD's value is
    not a default it could have been left with, or the work tree changed it since HEAD.
    A stage moved by hand (an edit merged from a pull request) leaves the previous
    stage's default behind: that is still a default, which the next move replaces.
    When in doubt (no default to compare with), it counts as set by hand: a manual
    value is never silently overwritten."""
    if now.get("probability") is None:
        return False
    if committed is None:
        return now.get("probability") not in _defaults_up_to(ws, now)
    if committed.get("probability") not in _defaults_up_to(ws, committed):
        return True
    return now.get("probability") != committed.get("probability")


def _defaults_up_to(ws: Workspace, data: dict[str, Any]) -> set[int]:
    """The default probabilities of the record's stage and of the stages its kind puts
    before it: what a probability that nobody set by hand can be."""
    stage = data.get("stage")
    kind = ws.catalog("kinds").get(str(data.get("kind"))) or {}
    order = [str(s) for s in kind.get("stages") or []]
    passed = order[: order.index(stage) + 1] if stage in order else [stage]
    found = (stage_probability(ws, s) for s in passed)
    return {p for p in found if p is not None}


def plan_move(
    ws: Workspace,
    record_id: str,
    stage: str,
    *,
    probability: int | None = None,
) -> Plan:
    """``crm move``: the next stage, its default probability (unless the probability
    was set by hand), and the tasks its templates describe, in one commit."""
    record = _opportunity(ws, record_id)
    stages = _kind_stages(ws, record)
    kind = record.data.get("kind")
    if not stages:
        raise CrmError(f"{record.id} is of the stageless kind '{kind}': it has no stages to move")
    if stage not in stages:
        known = stage in ws.catalog("stages")
        raise CrmError(
            f"'{stage}' is not a stage of kind '{kind}'" if known else f"unknown stage '{stage}'",
            hint=f"{_did_you_mean(stage, stages)}the stages of '{kind}': {', '.join(stages)}",
        )
    current = record.data.get("stage")
    if stage == current:
        raise CrmError(f"{record.id} is already in stage '{stage}'")
    status = record.data.get("status")
    if status in ("won", "lost"):
        raise CrmError(
            f"{record.id} is {status}: only an opportunity in progress moves",
            hint="`crm reopen` it first" if record.data.get("closed") else None,
        )
    kept = False
    if probability is not None:
        if not 0 <= probability <= 99:
            raise CrmError(
                f"probability {probability} is out of range",
                hint="an opportunity in progress has a probability of 0 to 99; "
                "`crm close --won` sets 100",
            )
        new_probability: Any = probability
    elif _set_by_hand(ws, record.data, _committed(ws, record.path)):
        kept, new_probability = True, record.data.get("probability")
    else:
        new_probability = stage_probability(ws, stage)
    changes: dict[str, Any] = {"stage": stage}
    if new_probability is not None and new_probability != record.data.get("probability"):
        changes["probability"] = new_probability
    moved = RecordFile(record.folder, record.id, record.path, "", {**record.data, **changes})
    tasks = stage_tasks(ws, moved, stage, set())
    shown = (
        f"probability {new_probability}" + (", kept: set by hand" if kept else "")
        if new_probability is not None
        else "no probability"
    )
    plan = Plan(
        verb="move",
        record=record.id,
        texts={
            record.path: set_values(record.text, changes),
            **{t.path: t.text for t in tasks},
        },
        created=[t.path for t in tasks],
        subject=subject("move", record.id, str(current), "->", stage),
        trailers=[
            ("Crm-Record", record.path),
            ("Crm-Stage-From", str(current)),
            ("Crm-Stage-To", stage),
        ],
        branch=branch_for(record.id, stage),
        summary=f"moved {record.id} {current} -> {stage} ({shown})",
        notes=[f"  created task {t.path}: {t.data.get('title')}" for t in tasks],
    )
    return plan


move = operation(plan_move)


def _committed(ws: Workspace, path: str) -> dict[str, Any] | None:
    text = ws.head_texts([path])[path]
    if text is None:
        return None
    try:
        data = parse(text)
    except ParseError:
        return None
    return data if isinstance(data, dict) else None


def plan_close(
    ws: Workspace,
    record_id: str,
    *,
    won: bool,
    reason: str | None = None,
    comment: str | None = None,
    keep_open: bool = False,
) -> Plan:
    """``crm close``: won (probability 100) or lost (probability 0, a reason from the
    catalog), and closed (read-only from now on) unless ``keep_open``."""
    record = _opportunity(ws, record_id)
    data = record.data
    if data.get("closed") is True:
        raise CrmError(
            f"{record.id} is already closed ({data.get('status')})",
            hint="a manager may `crm reopen` it",
        )
    changes: dict[str, Any]
    if won:
        if reason or comment:
            raise CrmError("--reason and --comment say why a deal was lost; they go with --lost")
        changes = {"status": "won", "probability": 100}
        changes.update({k: DELETE for k in ("loss_reason", "loss_comment") if k in data})
        outcome = "won"
    else:
        reasons = ws.catalog("loss-reasons")
        if not reason:
            raise CrmError(
                "a lost opportunity needs a reason",
                hint=f"pass --reason, one of: {', '.join(reasons) or '(none in the catalog)'}",
            )
        if reason not in reasons:
            raise CrmError(
                f"unknown loss reason '{reason}'",
                hint=f"{_did_you_mean(reason, list(reasons))}one of: {', '.join(reasons)}",
            )
        changes = {"status": "lost", "probability": 0, "loss_reason": reason}
        if comment:
            changes["loss_comment"] = comment
        outcome = f"lost ({reason})"
    if not keep_open:
        changes.update({"closed": True, "closed_on": ws.today.isoformat()})
    trailers = [("Crm-Record", record.path), ("Crm-Status", "won" if won else "lost")]
    if not won:
        trailers.append(("Crm-Loss-Reason", str(reason)))
    texts = {record.path: set_values(record.text, changes)}
    customer = _becomes_customer(ws, data) if won else None
    if customer is not None:
        texts[customer[0]] = customer[1]
        outcome += f"; {data.get('partner')} is a customer now"
    plan = Plan(
        verb="close",
        record=record.id,
        texts=texts,
        created=[],
        subject=subject("close", record.id, outcome),
        trailers=trailers,
        branch=branch_for(record.id, "won" if won else "lost"),
        summary=f"closed {record.id} as {outcome}"
        + (" (kept open: it can still change)" if keep_open else ""),
    )
    return plan


close = operation(plan_close)


def _becomes_customer(ws: Workspace, data: dict[str, Any]) -> tuple[str, str] | None:
    """(path, new text) of the won deal's partner with the customer role added, or None
    when it has the role already (or cannot be found: validate reports that)."""
    partner_id = data.get("partner")
    if not isinstance(partner_id, str):
        return None
    try:
        partner = ws.find(partner_id, ("partners",))
    except CrmError:
        return None
    roles = partner.data.get("roles")
    roles = [str(r) for r in roles] if isinstance(roles, list) else []
    if "customer" in roles:
        return None
    return partner.path, set_values(partner.text, {"roles": [*roles, "customer"]})


def plan_reopen(
    ws: Workspace,
    record_id: str,
) -> Plan:
    """``crm reopen``: back in progress at its stage's default probability.  Reopening a
    closed opportunity is for managers: the ``reopen-not-allowed`` rule decides."""
    record = _opportunity(ws, record_id)
    data = record.data
    if data.get("status") not in ("won", "lost") and data.get("closed") is not True:
        raise CrmError(f"{record.id} is in progress: there is nothing to reopen")
    probability = stage_probability(ws, data.get("stage"))
    changes: dict[str, Any] = {
        "status": "in_progress",
        "probability": probability if probability is not None else DELETE,
    }
    if "closed" in data:
        changes["closed"] = False
    changes.update({k: DELETE for k in ("closed_on", "loss_reason", "loss_comment") if k in data})
    reopened = set_values(record.text, changes)
    again = RecordFile(record.folder, record.id, record.path, reopened, {**data, **changes})
    plan = Plan(
        verb="reopen",
        record=record.id,
        texts={record.path: reopened},
        created=[],
        subject=subject("reopen", record.id),
        trailers=[("Crm-Record", record.path), ("Crm-Status", "in_progress")],
        branch=branch_for(record.id, "reopen"),
        summary=f"reopened {record.id} (was {data.get('status')})",
    )
    return with_entry_tasks(ws, plan, again)


reopen = operation(plan_reopen)


def plan_duplicate(ws: Workspace, record_id: str, *, name: str | None = None) -> Alternatives:
    """``crm duplicate``: a new opportunity like this one (a repeat order, the same deal
    for another site), back at the first stage, in progress, pointing at its origin;
    without a ``name``, "X (copy)", else "X (copy 2)"... whichever no other has."""
    source = _opportunity(ws, record_id)
    base = str(source.data.get("name") or source.id)
    candidates = (
        [name]
        if name
        else [f"{base} (copy)"] + [f"{base} (copy {n})" for n in range(2, NAME_ATTEMPTS + 1)]
    )
    return Alternatives(_duplicate_plan(ws, source, candidate) for candidate in candidates)


duplicate = operation(plan_duplicate)


def _duplicate_plan(ws: Workspace, source: RecordFile, name: str) -> Plan:
    stages = _kind_stages(ws, source)
    new_id = ws.unique_id("opportunities", slug(name))
    data = source.data
    changes: dict[str, Any] = {
        "id": new_id,
        "name": name,
        "status": "in_progress",
        "opened": ws.today.isoformat(),
        "origin": {"type": "opportunity", "id": source.id},
    }
    if stages:
        changes["stage"] = stages[0]
        probability = stage_probability(ws, stages[0])
        changes["probability"] = probability if probability is not None else DELETE
    elif data.get("status") != "in_progress":
        changes["probability"] = DELETE
    changes.update(
        {k: DELETE for k in ("closed", "closed_on", "loss_reason", "loss_comment") if k in data}
    )
    expected = data.get("expected_close")
    if isinstance(expected, str) and expected[:10] < ws.today.isoformat():
        changes["expected_close"] = DELETE  # a date in the past: the copy has its own
    text = source.text
    if text.startswith(SCHEMA_COMMENT):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    copy = {**data, **changes}
    path = ws.place("opportunities", new_id, copy)
    text = with_schema_comment(path, set_values(text, changes))
    plan = Plan(
        verb="duplicate",
        record=new_id,
        texts={path: text},
        created=[path],
        subject=subject("duplicate", source.id, "->", new_id),
        trailers=[("Crm-Record", path)] + ([("Crm-Stage-To", stages[0])] if stages else []),
        branch=branch_for(new_id, "new"),
        summary=f"duplicated {source.id} as {new_id} ({path})",
    )
    return with_entry_tasks(ws, plan, RecordFile("opportunities", new_id, path, text, copy))
