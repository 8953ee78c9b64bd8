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
from crmfiles.records.facts import holds
from crmfiles.records.facts_table import FactTable
from crmfiles.records.store import Record, Repository
from crmfiles.reports.context import LINKS, Context
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
    else:  # the one record, parsed alone
        found = ctx.repo.one(folder, str(ref))
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
    from crmfiles.reports.context import SUBJECTS

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


# what refers to a record of each type, by the folders read to find it
REFERRERS: dict[str, tuple[str, ...]] = {
    "opportunities": ("tasks", "interactions", "quotes", "orders", "invoices"),
    "partners": (
        "contacts",
        "opportunities",
        "tasks",
        "interactions",
        "quotes",
        "orders",
        "invoices",
    ),
    "contacts": ("opportunities", "tasks", "interactions"),
    "leads": ("tasks", "interactions"),
    "quotes": ("tasks", "quotes", "orders"),
    "orders": ("invoices",),
}


def _related(ctx: Context, record: Record) -> dict[str, list[Record]]:
    """The records that refer to this one, by folder, in the order people read them:
    found in the facts of the folders that may (read together), each opened whole."""
    rid, folder = record.id, record.folder
    repo = ctx.repo
    repo.fact_tables(REFERRERS.get(folder, ()))  # (with the quotes and orders they name)

    def where(name: str, test: Any, *fields: str) -> list[Record]:
        """The records of ``name`` whose ``fields`` pass ``test``."""
        if all(holds(name, f) for f in fields):
            table = repo.fact_table(name)
        else:  # (facts that do not keep one: the folder whole)
            table = FactTable.of_records(name, repo.records(name))
        rows = zip(*(table.column(f) for f in fields), strict=True)
        return repo.opened(table, [i for i, values in enumerate(rows) if test(*values)])

    def about(types: dict[str, set[str]]) -> Any:
        def test(s: Any) -> bool:
            return isinstance(s, dict) and str(s.get("id")) in types.get(str(s.get("type")), set())

        return test

    def via(name: str, derived: Any) -> Any:
        """A test of a document's value ``derived`` from the records it names."""
        fields = LINKS[name]
        return lambda *values: derived(name, dict(zip(fields, values, strict=True))) == rid

    def naming(*values: Any) -> bool:
        return rid in as_list(values[0])

    out: dict[str, list[Record]] = {}
    if folder == "opportunities":
        out["tasks"] = where("tasks", about({"opportunity": {rid}}), "subject")
        out["interactions"] = where("interactions", lambda o: o == rid, "opportunity")
        out["quotes"] = where("quotes", lambda o: o == rid, "opportunity")
        for name in ("orders", "invoices"):
            out[name] = where(name, via(name, ctx.opportunity), *LINKS[name])
    elif folder == "partners":
        deals = where("opportunities", lambda p: p == rid, "partner")
        ids = {r.id for r in deals}
        out["contacts"] = where("contacts", lambda p: p == rid, "partner")
        out["opportunities"] = deals
        out["tasks"] = where("tasks", about({"partner": {rid}, "opportunity": ids}), "subject")
        out["interactions"] = where("interactions", lambda p: p == rid, "partner")
        out["quotes"] = where("quotes", lambda o: isinstance(o, str) and o in ids, "opportunity")
        for name in ("orders", "invoices"):
            out[name] = where(name, via(name, ctx.partner), *LINKS[name])
    elif folder == "contacts":
        out["opportunities"] = where("opportunities", naming, "contacts")
        out["tasks"] = where("tasks", about({"contact": {rid}}), "subject")
        out["interactions"] = where("interactions", naming, "contacts")
    elif folder == "leads":
        out["tasks"] = where("tasks", about({"lead": {rid}}), "subject")
        out["interactions"] = where("interactions", lambda lead: lead == rid, "lead")
    elif folder == "quotes":
        out["tasks"] = where("tasks", about({"quote": {rid}}), "subject")
        out["quotes"] = where("quotes", lambda p: p == rid, "previous")
        out["orders"] = where("orders", lambda q: q == rid, "quote")
    elif folder == "orders":
        out["invoices"] = where("invoices", lambda o: o == rid, "order")
    return out


def open_first(tasks: list[Record]) -> list[Record]:
    """Tasks not done, by due date (none last)."""
    pending = [t for t in tasks if not t.data.get("completed")]
    return sorted(pending, key=lambda t: (str(t.data.get("due") or "9999"), t.id))
