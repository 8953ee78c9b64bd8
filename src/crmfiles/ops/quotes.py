"""Quotes: ``crm quote new|activate|win|lose|revise``.

A quote is made from an opportunity in progress (its lines, partner, contacts, currency
and terms), valid for ``documents.quote_validity_days`` of crm.yaml (30 by default).
A revision is the next quote, a new file pointing at the one it replaces, which becomes
``revised`` in the same commit.  Winning a quote says what the opportunity needs next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crmfiles.documents.lifecycle import OPEN_QUOTE
from crmfiles.documents.totals import document_totals
from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan
from crmfiles.ops.documents import (
    DEFAULT_VALIDITY_DAYS,
    document,
    frozen_lines,
    new_document,
    new_plan,
    next_id,
    numbered,
    setting,
    status_plan,
)
from crmfiles.ops.new import stages_of
from crmfiles.ops.runner import Unchanged, operation
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.ops.yamltext import set_values
from crmfiles.records.store import Repository

QUOTES = "quotes"


def _valid_until(ws: Workspace) -> str:
    days = setting(ws, "quote_validity_days", DEFAULT_VALIDITY_DAYS)
    return (ws.today + dt.timedelta(days=days)).isoformat()


#: the status an action sets (asked again: nothing to do)
DONE = {"activate": "active", "win": "won", "lose": "lost"}


def open_quote(ws: Workspace, quote_id: str, action: str, statuses: frozenset[str]) -> RecordFile:
    """The quote ``quote_id`` names, when ``action`` (activate, win, lose, revise) takes
    a quote of its status (or the status ``action`` sets: nothing to do); else exit 2
    with the plain reason, before any rule is asked."""
    quote = document(ws, QUOTES, quote_id, OPEN_QUOTE)
    status = str(quote.data.get("status"))
    if status in statuses or status == DONE.get(action):
        return quote
    past = {"activate": "activated", "win": "won", "lose": "lost", "revise": "revised"}[action]
    which = " or ".join(s for s in ("draft", "active") if s in statuses)
    opportunity = quote.data.get("opportunity")
    if status == "draft" and action == "win":
        hint = f"`crm quote activate {quote.id}` once it is sent: a customer accepts what was sent"
    elif status == "revised":
        hint = (
            f"its newer revision is the one to {action}: "
            f"`crm list quotes --opportunity {opportunity}`"
        )
    else:
        hint = f"`crm quote new {opportunity}` starts a new one"
    article = "an" if which.startswith("a") else "a"
    raise CrmError(f"{quote.id} is {status}: only {article} {which} quote is {past}", hint=hint)


def plan_new(ws: Workspace, opportunity_id: str) -> Plan:
    """``crm quote new OPP``: a draft quote of the opportunity, revision 1."""
    opportunity = ws.find(opportunity_id, ("opportunities",))
    data = opportunity.data
    if data.get("closed") is True or data.get("status") in ("won", "lost"):
        state = "closed" if data.get("closed") is True else str(data.get("status"))
        raise CrmError(
            f"{opportunity.id} is {state}: `crm quote new` quotes an opportunity in progress",
            hint="a manager may `crm reopen` it first" if data.get("closed") is True else None,
        )
    _no_open_quote(ws, opportunity.id)
    currency = str(data.get("currency") or ws.config.currency)
    fields: dict[str, Any] = {
        "id": next_id(ws, QUOTES, ws.today.year),
        "opportunity": opportunity.id,
        "revision": 1,
        "status": "draft",
        "partner": data.get("partner"),
        "contacts": data.get("contacts") or None,
        "date": ws.today.isoformat(),
        "valid_until": _valid_until(ws),
        "currency": currency,
        "lines": frozen_lines(data.get("lines"), ws.catalog("products"), currency) or None,
        "terms": data.get("terms"),
    }
    quote = new_document(ws, QUOTES, fields)
    notes = [] if fields["lines"] else ["  it has no lines yet: the opportunity has none"]
    return new_plan(
        ws, quote, verb="quote new", source=opportunity, asked=opportunity_id, notes=notes
    )


new = numbered(plan_new)


def _no_open_quote(ws: Workspace, opportunity_id: str) -> None:
    """One draft or active quote per opportunity: a second is refused before a number
    is drawn for it (exit 2), naming the open one."""
    open_quotes = sorted(
        (r.id, str(r.data.get("status")))
        for r in Repository(ws.root).records(QUOTES)
        if r.data.get("opportunity") == opportunity_id and r.data.get("status") in OPEN_QUOTE
    )
    if open_quotes:
        quote_id, status = open_quotes[0]
        raise CrmError(
            f"{quote_id} of {opportunity_id} is still {status}: win, lose or revise it",
            hint=f"`crm quote revise {quote_id}` makes its next revision",
        )


def plan_activate(ws: Workspace, quote_id: str) -> Plan | Unchanged:
    """``crm quote activate Q``: sent to the customer; read-only from then on."""
    quote = open_quote(ws, quote_id, "activate", frozenset({"draft"}))
    if quote.data.get("status") == "draft":
        lines = quote.data.get("lines")
        if not isinstance(lines, list) or not lines:
            raise CrmError(
                f"{quote.id} has no lines: a quote is sent with what it offers",
                hint=f"add lines with `crm edit {quote.id}` (or `crm set {quote.id} ...`)",
            )
        if document_totals(quote.data, ws.catalog("products")) is None:
            raise CrmError(
                f"{quote.id} has no total: a line without a price",
                hint=f"give each line a unit_price (`crm edit {quote.id}`), or its "
                "product a list price",
            )
    return status_plan(
        ws,
        quote,
        "active",
        verb="quote activate",
        summary=f"activated {quote.id} (read-only from now on: revise it to change it)",
    )


activate = operation(plan_activate)


def plan_win(ws: Workspace, quote_id: str) -> Plan | Unchanged:
    """``crm quote win Q``: the customer accepted it; says what the opportunity needs
    next (closing it as won, or the moves before that)."""
    quote = open_quote(ws, quote_id, "win", frozenset({"active"}))
    return status_plan(
        ws,
        quote,
        "won",
        verb="quote win",
        summary=f"won {quote.id}",
        notes=next_step(ws, quote),
    )


win = operation(plan_win)


def next_step(ws: Workspace, quote: RecordFile) -> list[str]:
    """What a won quote asks of its opportunity, as commands a person can run."""
    opportunity_id = str(quote.data.get("opportunity"))
    try:
        opportunity = ws.find(opportunity_id, ("opportunities",))
    except CrmError:
        return []
    data = opportunity.data
    if data.get("status") == "won":
        return [f"  {opportunity.id} is won already; `crm order new {quote.id}` makes the order"]
    close = f"`crm close {opportunity.id} --won`"
    order = f"then `crm order new {quote.id}`"
    kind = ws.catalog("kinds").get(str(data.get("kind"))) or {}
    stages = stages_of(kind)
    stage = data.get("stage")
    if ready_to_close(kind, stage):
        return [f"  next: close {opportunity.id} as won: {close}; {order}"]
    # (a standard kind moves one stage at a time; the others may skip to the last)
    standard = kind.get("type") == "standard"
    moves = stages[stages.index(str(stage)) + 1 :] if standard else stages[-1:]
    steps = "; ".join(f"`crm move {opportunity.id} {s}`" for s in moves)
    return [
        f"  next: {opportunity.id} is at '{stage}'; won is reached from '{stages[-1]}': "
        f"{steps}; then {close}; {order}"
    ]


def ready_to_close(kind: Mapping[str, Any], stage: Any) -> bool:
    """Whether an opportunity of ``kind`` in ``stage`` may be closed as won now: it is
    at its kind's last stage (or the kind has no stages, or the stage is none of
    them: the rules say what is wrong with that, not this)."""
    stages = stages_of(kind)
    return not stages or stage not in stages or stage == stages[-1]


def plan_lose(ws: Workspace, quote_id: str, *, reason: str | None = None) -> Plan | Unchanged:
    """``crm quote lose Q [--reason R]``: the customer said no (or it lapsed)."""
    quote = open_quote(ws, quote_id, "lose", OPEN_QUOTE)
    changes = {"loss_reason": reason} if reason else {}
    said = f" ({reason})" if reason else ""
    return status_plan(
        ws, quote, "lost", verb="quote lose", changes=changes, summary=f"lost {quote.id}{said}"
    )


lose = operation(plan_lose)


def plan_revise(ws: Workspace, quote_id: str) -> Plan:
    """``crm quote revise Q``: the next revision, a new draft with Q's lines, pointing at
    Q, which becomes ``revised``, in one commit."""
    old = open_quote(ws, quote_id, "revise", OPEN_QUOTE)
    data = old.data
    revision = data.get("revision")
    number = revision + 1 if isinstance(revision, int) and not isinstance(revision, bool) else 2
    fields: dict[str, Any] = {
        **{k: data.get(k) for k in ("opportunity", "partner", "contacts", "currency")},
        "id": next_id(ws, QUOTES, ws.today.year),
        "revision": number,
        "previous": old.id,
        "status": "draft",
        "date": ws.today.isoformat(),
        "valid_until": _valid_until(ws),
        "lines": data.get("lines"),
        "terms": data.get("terms"),
    }
    quote = new_document(ws, QUOTES, fields)
    revised = set_values(old.text, {"status": "revised"})
    plan = new_plan(
        ws, quote, verb="quote revise", source=old, asked=quote_id, also={old.path: revised}
    )
    plan.summary = f"revised {old.id} as {quote.id}, revision {number} ({quote.path})"
    plan.trailers.append(("Crm-Previous", old.path))
    return plan


revise = numbered(plan_revise)
