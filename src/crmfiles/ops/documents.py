"""What the quote, order and invoice operations share: numbers, settings, new
documents and status changes.

A document is numbered per year (``q-2026-0021``, ``ord-2026-0004``, ``inv-2026-0117``):
the next number after every id of its folder for that year.  Two commands that pick the
same number at once cannot both commit it: the second one's commit is refused (the file
was created meanwhile, :mod:`crmfiles.ops.rebase`), and :func:`numbered` plans it again
with the next free number.

Which status may follow which is the lifecycle's (:mod:`crmfiles.documents.lifecycle`),
enforced by the rules the guard runs on every commit; the planners here only refuse what
is a precondition of the command itself (an order from a quote that is not won).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.money import decimal
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.new import ordered
from crmfiles.ops.result import OpResult
from crmfiles.ops.runner import Operation, Planner, Unchanged, carry_out
from crmfiles.ops.workspace import RecordFile, Workspace
from crmfiles.ops.yamltext import dump, set_values
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.store import Repository
from crmfiles.runtime import Runtime

PREFIX = {"quotes": "q", "orders": "ord", "invoices": "inv"}
ATTEMPTS = 5  # numbers taken meanwhile by other commands before giving up
DEFAULT_VALIDITY_DAYS = 30
DEFAULT_PAYMENT_DAYS = 30
# what a document's line carries over from the line it is made from (a margin is the
# seller's business, not the customer's)
LINE_FIELDS = (
    "product",
    "description",
    "sale_type",
    "quantity",
    "unit_price",
    "currency",
    "discount",
    "tax_rate",
    "duration_months",
    "comment",
)


def setting(ws: Workspace, key: str, default: int) -> int:
    """A number of days from crm.yaml's ``documents`` (the schema checked its range)."""
    documents = ws.config.raw.get("documents")
    value = documents.get(key) if isinstance(documents, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def next_id(ws: Workspace, folder: str, year: int) -> str:
    """``<prefix>-<year>-<NNNN>``: one more than the highest number of that year among
    every id of the folder (wherever under it the file sits)."""
    pattern = re.compile(rf"^{PREFIX[folder]}-{year}-(\d+)\.yaml$")
    numbers = [int(m.group(1)) for name in ws.names(folder) if (m := pattern.match(name))]
    return f"{PREFIX[folder]}-{year}-{max(numbers, default=0) + 1:04d}"


def document(
    ws: Workspace, folder: str, record_id: str, statuses: frozenset[str] | None = None
) -> RecordFile:
    """A document by its id; or, given an opportunity's id, the one document of that
    opportunity whose status is among ``statuses`` (its open quote, its won quote, its
    order, its open invoice), so that a person need not look the number up."""
    if ws.exists(folder, record_id) or statuses is None or "/" in record_id:
        return ws.find(record_id, (folder,))
    if not ws.exists("opportunities", record_id):
        return ws.find(record_id, (folder,))  # (says there is no such document)
    found = sorted(
        r.id
        for r in Repository(ws.root).records(folder)
        if _opportunity_of(ws, folder, r.data) == record_id and r.data.get("status") in statuses
    )
    what = f"{' or '.join(sorted(statuses))} {folder}"
    if len(found) != 1:
        raise CrmError(
            f"{record_id} has {len(found) or 'no'} {what}"
            + (f": {', '.join(found)}" if found else ""),
            hint=f"name the {RECORD_FOLDERS[folder]} by its id"
            + (f" (`crm list {folder} --opportunity {record_id}`)" if found else ""),
        )
    return ws.find(found[0], (folder,))


def _opportunity_of(ws: Workspace, folder: str, data: Mapping[str, Any]) -> Any:
    """A document's opportunity: its own field, else (an invoice) its order's."""
    if folder != "invoices":
        return data.get("opportunity")
    order = str(data.get("order"))
    if not ws.exists("orders", order):
        return None
    return ws.find(order, ("orders",)).data.get("opportunity")


def frozen_lines(lines: Any, products: Mapping[str, Any], currency: str) -> list[dict[str, Any]]:
    """The lines a document carries: their customer-facing fields, with the product's
    list price and tax rate written in where the line has none, so that a document says
    what it says even when the catalog changes (a list price in another currency is left
    to the line: the currency rule says so)."""
    out: list[dict[str, Any]] = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, dict):
            continue
        copy = {k: line[k] for k in LINE_FIELDS if line.get(k) is not None}
        product = products.get(str(line.get("product")))
        if isinstance(product, dict):
            price = decimal(product.get("price"))
            same_currency = product.get("currency") in (None, currency)
            if "unit_price" not in copy and price is not None and same_currency:
                copy["unit_price"] = price
            if "tax_rate" not in copy and decimal(product.get("tax_rate")) is not None:
                copy["tax_rate"] = product["tax_rate"]
        out.append({k: copy[k] for k in LINE_FIELDS if k in copy})
    return out


def new_document(ws: Workspace, folder: str, fields: Mapping[str, Any]) -> RecordFile:
    """A new document's file (placed by crm.yaml's layout), not written yet."""
    data = ordered(folder, fields)
    record_id = str(data["id"])
    path = ws.place(folder, record_id, data)
    return RecordFile(folder, record_id, path, dump(path, data), data)


def new_plan(
    ws: Workspace,
    record: RecordFile,
    *,
    verb: str,
    source: RecordFile,
    asked: str,
    also: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> Plan:
    """The commit that creates ``record`` from ``source`` (with ``also``: other files
    it changes, path -> new text); ``asked`` is what the person named (``source``'s id,
    or an opportunity's standing for it), what a refusal names."""
    kind = RECORD_FOLDERS[record.folder]
    return Plan(
        verb=verb,
        record=record.id,
        texts={record.path: record.text, **(also or {})},
        created=[record.path],
        subject=subject(verb, record.id, f"from {source.id}"),
        trailers=[
            ("Crm-Record", record.path),
            ("Crm-Status", str(record.data.get("status"))),
        ],
        branch=branch_for(record.id, "new"),
        summary=f"created {kind} {record.id} from {source.id} ({record.path})",
        notes=list(notes),
        asked=asked,
    )


def status_plan(
    ws: Workspace,
    record: RecordFile,
    status: str,
    *,
    verb: str,
    changes: Mapping[str, Any] | None = None,
    also: Mapping[str, str] | None = None,
    created: Sequence[str] = (),
    summary: str | None = None,
    notes: Sequence[str] = (),
) -> Plan | Unchanged:
    """The commit that sets a document's ``status`` (and ``changes``).  Whether the
    status may follow the one it has is the lifecycle rules' to say, through the guard,
    as for a hand edit."""
    before = record.data.get("status")
    if before == status and not also:
        return Unchanged(record.id, f"{record.id} is {status} already")
    text = set_values(record.text, {"status": status, **(changes or {})})
    return Plan(
        verb=verb,
        record=record.id,
        texts={record.path: text, **(also or {})},
        created=list(created),
        subject=subject(verb, record.id, f"{before} -> {status}"),
        trailers=[("Crm-Record", record.path), ("Crm-Status", status)],
        branch=branch_for(record.id, status),
        summary=summary or f"{record.id} {before} -> {status}",
        notes=list(notes),
    )


def day(on: dt.date | None, ws: Workspace, what: str) -> dt.date:
    """``--on``: a day that has come (default today)."""
    chosen = on or ws.today
    if chosen > ws.today:
        raise CrmError(f"--on {chosen.isoformat()} is in the future", hint=f"{what} by now")
    return chosen


def numbered(planner: Planner) -> Operation:
    """The operation of a planner that creates a numbered document: when its commit is
    refused because another command took the number meanwhile, it is planned again (the
    next number) - up to :data:`ATTEMPTS` times."""

    def run(
        root: Path,
        /,
        *args: Any,
        commit: bool = True,
        branch: bool = False,
        runtime: Runtime | None = None,
        **kwargs: Any,
    ) -> OpResult:
        for attempt in range(1, ATTEMPTS + 1):
            with Workspace(root, staging=commit and not branch, runtime=runtime) as ws:
                planned = planner(ws, *args, **kwargs)
                try:
                    return carry_out(ws, planned, commit=commit, branch=branch)
                except CrmError:
                    if attempt == ATTEMPTS or not _taken_meanwhile(root, planned, ws):
                        raise
        raise AssertionError("unreachable")

    run.__name__ = run.__qualname__ = planner.__name__.removeprefix("plan_")
    run.__doc__ = planner.__doc__
    run.planner = planner  # type: ignore[attr-defined]
    return run


def _taken_meanwhile(root: Path, planned: Any, before: Workspace) -> bool:
    """Whether the id the plan numbered is now another record's (a file of that name
    appeared under the folder since the plan was made)."""
    if not isinstance(planned, Plan) or not planned.created:
        return False
    folder = planned.created[0].partition("/")[0]
    name = f"{planned.record}.yaml"
    if name in before.names(folder):
        return False  # (it was there when planned: not a race, some other refusal)
    return name in Workspace(root).names(folder)
