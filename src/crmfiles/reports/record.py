"""One record for a person (``crm show``): its references resolved to names, its
money computed (lines, amount, weighted amount, margin), and the records that refer
to it (tasks, interactions, quotes, orders, invoices; a partner's deals and contacts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crmfiles.money import (
    amount_of,
    decimal,
    line_margin,
    line_total,
    margin_of,
    plain,
    weighted,
)
from crmfiles.records.store import Record, Repository
from crmfiles.reports.lists import Context
from crmfiles.reports.pipeline import as_list

# field -> the catalog or record folder its value names
REFERENCES = {
    "partner": "partners",
    "parent": "partners",
    "contacts": "contacts",
    "responsible": "people",
    "team": "people",
    "assignee": "people",
    "kind": "kinds",
    "stage": "stages",
    "loss_reason": "loss-reasons",
    "disqualify_reason": "loss-reasons",
    "channel": "channels",
    "terms": "terms",
    "tags": "tags",
    "establishment": "establishments",
    "sector": "sectors",
    "family": "families",
    "sub_family": "sub-families",
    "opportunity": "opportunities",
    "lead": "leads",
    "quote": "quotes",
    "order": "orders",
    "previous": "quotes",
}
CATALOG_NAMES = {
    "people",
    "kinds",
    "stages",
    "loss-reasons",
    "channels",
    "terms",
    "tags",
    "establishments",
    "sectors",
    "families",
    "sub-families",
}
# shown in sections of their own, not among the fields
APART = {
    "id",
    "amount",
    "lines",
    "insight",
    "competitors",
    "custom",
    "address",
    "subject",
    "qualified",
}
# a reference to a record of some type (``{type: lead, id: ...}``), resolved as
# ``type name (id)``; ``subject`` is shown after the other fields
TYPED_REFERENCES = ("origin",)


@dataclass
class Line:
    what: str  # the product's name, or the line's description
    product: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    discount: Decimal | None
    months: int | None
    sale_type: str | None
    total: Decimal | None
    margin_percent: Decimal | None
    margin: Decimal | None
    comment: str | None


@dataclass
class Dossier:
    record: Record
    title: str
    fields: list[tuple[str, str]]  # (field, value with names resolved)
    lines: list[Line] = field(default_factory=list)
    amount: Decimal | None = None
    currency: str | None = None
    weighted: Decimal | None = None
    margin: Decimal | None = None
    weighted_margin: Decimal | None = None  # the margin x the probability
    days_in_stage: int | None = None
    related: dict[str, list[Record]] = field(default_factory=dict)
    ctx: Context | None = field(default=None, repr=False)

    def computed(self) -> dict[str, Any]:
        """What ``--format json`` adds beside the stored record."""
        return {
            "amount": plain(self.amount),
            "currency": self.currency,
            "weighted": plain(self.weighted),
            "margin": plain(self.margin),
            "weighted_margin": plain(self.weighted_margin),
            "days_in_stage": self.days_in_stage,
            "lines": [{"total": plain(x.total), "margin": plain(x.margin)} for x in self.lines],
            "related": {k: [r.id for r in v] for k, v in self.related.items()},
        }


def dossier(repo: Repository, record: Record, days: int | None = None) -> Dossier:
    ctx = Context(repo)
    data, folder = record.data, record.folder
    key = next((k for k in ("name", "title", "subject") if isinstance(data.get(k), str)), None)
    title = str(data[key]) if key and data[key] else record.id
    fields = [(k, v) for k, v in _fields(ctx, data) if k != key]
    shown = Dossier(record, title, fields, ctx=ctx)
    if folder in ("opportunities", "quotes", "orders", "invoices"):
        shown.currency = ctx.currency(data)
        shown.lines = [_line(ctx, x) for x in data.get("lines") or [] if isinstance(x, dict)]
        if folder == "opportunities":
            shown.amount = amount_of(data, ctx.products)
            shown.weighted = weighted(shown.amount, data.get("probability"))
            shown.days_in_stage = days
        else:
            shown.amount = ctx.amount(folder, data)
        shown.margin = margin_of(data, ctx.products)
        if folder == "opportunities":
            shown.weighted_margin = weighted(shown.margin, data.get("probability"))
    shown.related = {k: v for k, v in _related(ctx, record).items() if v}
    return shown


def _name(ctx: Context, folder: str, ref: Any) -> str:
    if folder in CATALOG_NAMES:
        entry = ctx.repo.catalog(folder).get(str(ref))
        name = entry.get("name") if isinstance(entry, dict) else None
    else:
        found = ctx.folder(folder).get(str(ref))
        name = found.data.get("name") or found.data.get("title") if found else None
    return f"{name} ({ref})" if name and str(name) != str(ref) else str(ref)


def _fields(ctx: Context, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        if key in APART or value is None or value == "" or value == []:
            continue
        if key in TYPED_REFERENCES and isinstance(value, dict):
            yield key, _typed(ctx, value)
            continue
        folder = REFERENCES.get(key)
        if key == "source" and isinstance(data.get("channel"), str):
            folder = _source_folder(ctx, data["channel"])
        if folder is not None:
            yield key, ", ".join(_name(ctx, folder, v) for v in as_list(value))
        elif isinstance(value, list):
            yield key, ", ".join(map(str, value))
        elif isinstance(value, bool):
            yield key, "yes" if value else "no"
        else:
            yield key, str(value)
    subject = data.get("subject")
    if isinstance(subject, dict):
        yield "subject", _typed(ctx, subject)


def _typed(ctx: Context, ref: dict[str, Any]) -> str:
    """``{type: lead, id: x}`` as ``lead Name (x)``."""
    from crmfiles.reports.lists import SUBJECTS

    where = SUBJECTS.get(str(ref.get("type")))
    return f"{ref.get('type')} " + (
        _name(ctx, where, ref.get("id")) if where else str(ref.get("id"))
    )


def _source_folder(ctx: Context, channel: str) -> str | None:
    """A lead source names what its channel's impact says (partner, contact, person)."""
    impact = (ctx.repo.catalog("channels").get(channel) or {}).get("impact")
    return {"partner": "partners", "contact": "contacts", "person": "people"}.get(str(impact))


def _line(ctx: Context, line: dict[str, Any]) -> Line:
    product = line.get("product")
    entry = ctx.products.get(str(product)) if product is not None else None
    what = str(line.get("description") or "")
    if isinstance(entry, dict) and entry.get("name"):
        what = str(entry["name"]) + (f" – {what}" if what else "")
    price = decimal(line.get("unit_price"))
    if price is None and isinstance(entry, dict):
        price = decimal(entry.get("price"))
    quantity = decimal(line.get("quantity", 1))
    discount = decimal(line.get("discount", 0)) or Decimal(0)
    months = line.get("duration_months")
    months = months if isinstance(months, int) and not isinstance(months, bool) else None
    total = line_total(line, ctx.products)
    margin_percent = decimal(line.get("margin"))
    margin = line_margin(line, ctx.products)
    sale_type = line.get("sale_type")
    return Line(
        what or str(product or ""),
        str(product) if product is not None else None,
        quantity,
        price,
        discount or None,
        months,
        str(sale_type) if sale_type else None,
        total,
        margin_percent,
        margin,
        str(line["comment"]) if line.get("comment") else None,
    )


def _related(ctx: Context, record: Record) -> dict[str, list[Record]]:
    """The records that refer to this one, by folder, in the order people read them."""
    rid, folder = record.id, record.folder

    def where(name: str, test: Any) -> list[Record]:
        return [r for r in ctx.repo.records(name) if test(r.data)]

    def about(types: dict[str, set[str]]) -> Any:
        def test(d: dict[str, Any]) -> bool:
            s = d.get("subject")
            return isinstance(s, dict) and str(s.get("id")) in types.get(str(s.get("type")), set())

        return test

    out: dict[str, list[Record]] = {}
    if folder == "opportunities":
        out["tasks"] = where("tasks", about({"opportunity": {rid}}))
        out["interactions"] = where("interactions", lambda d: d.get("opportunity") == rid)
        out["quotes"] = where("quotes", lambda d: d.get("opportunity") == rid)
        out["orders"] = where("orders", lambda d: ctx.opportunity("orders", d) == rid)
        out["invoices"] = where("invoices", lambda d: ctx.opportunity("invoices", d) == rid)
    elif folder == "partners":
        deals = where("opportunities", lambda d: d.get("partner") == rid)
        ids = {r.id for r in deals}
        out["contacts"] = where("contacts", lambda d: d.get("partner") == rid)
        out["opportunities"] = deals
        out["tasks"] = where("tasks", about({"partner": {rid}, "opportunity": ids}))
        out["interactions"] = where("interactions", lambda d: d.get("partner") == rid)
        out["quotes"] = where("quotes", lambda d: d.get("opportunity") in ids)
        out["orders"] = where("orders", lambda d: ctx.partner("orders", d) == rid)
        out["invoices"] = where("invoices", lambda d: ctx.partner("invoices", d) == rid)
    elif folder == "contacts":
        out["opportunities"] = where("opportunities", lambda d: rid in as_list(d.get("contacts")))
        out["tasks"] = where("tasks", about({"contact": {rid}}))
        out["interactions"] = where("interactions", lambda d: rid in as_list(d.get("contacts")))
    elif folder == "leads":
        out["tasks"] = where("tasks", about({"lead": {rid}}))
        out["interactions"] = where("interactions", lambda d: d.get("lead") == rid)
    elif folder == "quotes":
        out["tasks"] = where("tasks", about({"quote": {rid}}))
        out["quotes"] = where("quotes", lambda d: d.get("previous") == rid)
        out["orders"] = where("orders", lambda d: d.get("quote") == rid)
    elif folder == "orders":
        out["invoices"] = where("invoices", lambda d: d.get("order") == rid)
    return out


def open_first(tasks: list[Record]) -> list[Record]:
    """Tasks not done, by due date (none last)."""
    pending = [t for t in tasks if not t.data.get("completed")]
    return sorted(pending, key=lambda t: (str(t.data.get("due") or "9999"), t.id))
