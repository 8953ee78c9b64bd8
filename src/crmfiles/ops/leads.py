"""Leads: qualified into a partner, a contact and an opportunity (in one commit, the
lead marked ``qualified`` and pointing at all three), or disqualified with a reason."""

from __future__ import annotations

from typing import Any

from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.new import new_record, with_entry_tasks
from crmfiles.ops.runner import Alternatives, operation
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.ops.yamltext import set_values
from crmfiles.records import RECORD_FOLDERS

NAME_ATTEMPTS = 9


def _open_lead(ws: Workspace, lead_id: str) -> RecordFile:
    lead = ws.find(lead_id, ("leads",))
    status = lead.data.get("status")
    if status in ("qualified", "disqualified"):
        raise CrmError(f"lead {lead.id} is already {status}")
    return lead


def plan_qualify(
    ws: Workspace, lead_id: str, *, partner: str | None = None, kind: str | None = None
) -> Alternatives:
    """``crm qualify``: the lead becomes an opportunity with its partner (``partner``,
    an existing id, or a new one from the lead's company) and contact (from the lead's
    contact name, when it gives one); the opportunity is named after the lead, "X (2)"
    when another has that name."""
    lead = _open_lead(ws, lead_id)
    base = str(lead.data.get("name") or lead.id)
    names = [base] + [f"{base} ({n})" for n in range(2, NAME_ATTEMPTS + 1)]
    return Alternatives(_qualify_plan(ws, lead, partner, kind, name) for name in names)


qualify = operation(plan_qualify)


def _qualify_plan(
    ws: Workspace, lead: RecordFile, partner: str | None, kind: str | None, name: str
) -> Plan:
    data = lead.data
    responsible = data.get("responsible") or ws.me
    records: list[RecordFile] = []
    if partner is not None:
        if not ws.exists("partners", partner):
            raise CrmError(
                f"no partner with id '{partner}'",
                hint="`crm list partners` shows the ids; leave --partner out to create one "
                "from the lead's company",
            )
        partner_id = partner
    else:
        company = data.get("company")
        if not isinstance(company, str) or not company.strip():
            raise CrmError(
                f"lead {lead.id} names no company to make a partner of",
                hint="pass --partner ID (an existing partner)",
            )
        fields = {"name": company, "roles": ["prospect"], "responsible": responsible}
        fields.update({k: data[k] for k in ("country",) if k in data})
        records.append(new_record(ws, "partners", fields))
        partner_id = records[-1].id
    contact_id = None
    contact_name = data.get("contact_name")
    if isinstance(contact_name, str) and contact_name.strip():
        fields = {"name": contact_name, "partner": partner_id, "responsible": responsible}
        fields.update({k: data[k] for k in ("email", "phone") if k in data})
        records.append(new_record(ws, "contacts", fields))
        contact_id = records[-1].id
    fields = {
        "name": name,
        "partner": partner_id,
        "responsible": responsible,
        "origin": {"type": "lead", "id": lead.id},
    }
    # the kind: the one asked for, else the lead's own, else crm.yaml's defaults.kind
    # (new_record's default); only when none says is the user asked
    kind = kind if kind is not None else data.get("kind")
    if kind is not None:
        fields["kind"] = kind
    if contact_id:
        fields["contacts"] = [contact_id]
    fields.update({k: data[k] for k in ("channel", "source", "tags", "comment") if k in data})
    opportunity = new_record(ws, "opportunities", fields)
    records.append(opportunity)
    qualified: dict[str, Any] = {"partner": partner_id}
    if contact_id:
        qualified["contact"] = contact_id
    qualified["opportunity"] = opportunity.id
    texts = {lead.path: set_values(lead.text, {"status": "qualified", "qualified": qualified})}
    texts.update({r.path: r.text for r in records})
    made = ", ".join(f"{RECORD_FOLDERS[r.folder]} {r.id}" for r in records)
    plan = Plan(
        verb="qualify",
        record=lead.id,
        texts=texts,
        created=[r.path for r in records],
        subject=subject("qualify", lead.id, "->", opportunity.id),
        trailers=[("Crm-Record", lead.path)]
        + [("Crm-Record", r.path) for r in records]
        + [("Crm-Status", "qualified")],
        branch=branch_for(lead.id, "qualified"),
        summary=f"qualified lead {lead.id}: created {made}",
        notes=[f"  created {r.path}" for r in records],
    )
    return with_entry_tasks(ws, plan, opportunity)


def plan_disqualify(
    ws: Workspace,
    lead_id: str,
    *,
    reason: str,
) -> Plan:
    """``crm disqualify``: the lead is dropped, with a reason from the loss reasons."""
    lead = _open_lead(ws, lead_id)
    reasons = ws.catalog("loss-reasons")
    if reason not in reasons:
        raise CrmError(
            f"unknown reason '{reason}'",
            hint=f"one of catalogs/loss-reasons.yaml: {', '.join(reasons) or '(none)'}",
        )
    changes = {"status": "disqualified", "disqualify_reason": reason}
    plan = Plan(
        verb="disqualify",
        record=lead.id,
        texts={lead.path: set_values(lead.text, changes)},
        created=[],
        subject=subject("disqualify", lead.id, f"({reason})"),
        trailers=[
            ("Crm-Record", lead.path),
            ("Crm-Status", "disqualified"),
            ("Crm-Loss-Reason", reason),
        ],
        branch=branch_for(lead.id, "disqualified"),
        summary=f"disqualified lead {lead.id} ({reason})",
    )
    return plan


disqualify = operation(plan_disqualify)
