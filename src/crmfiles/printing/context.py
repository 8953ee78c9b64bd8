"""What a template sees: one context per record, built here and nowhere else.

Plain data only — dicts, lists, strings, ints and Decimals (money to the cent) — so a
template reaches no Python object, and every figure comes from
:mod:`crmfiles.documents.totals`, the same as ``crm show`` and the rules use.  Every key
a built-in template reads is always there (``None`` when the record says nothing), so
the sandbox's strict undefined catches a typo instead of printing an empty total.
docs/documents.md lists the variables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crmfiles.documents.totals import (
    Totals,
    document_totals,
    invoiced,
    left_to_invoice,
    line_amounts,
)
from crmfiles.errors import CrmError
from crmfiles.money import decimal, to_cent
from crmfiles.records import RECORD_FOLDERS, iso_date
from crmfiles.records.store import Record, Repository

DOCUMENTS = ("quotes", "orders", "invoices")
TITLES = {
    "quotes": "Quote",
    "orders": "Order",
    "invoices": "Invoice",
    "opportunities": "Opportunity",
}
DEFAULT_VALIDITY_DAYS = 30
DEFAULT_PAYMENT_DAYS = 30
COMPANY_FIELDS = ("name", "address", "vat_id", "email", "phone", "website", "bank")


def title_of(folder: str) -> str:
    return TITLES.get(folder, RECORD_FOLDERS.get(folder, folder).capitalize())


def build(repo: Repository, record: Record, today: dt.date) -> dict[str, Any]:
    """The context of ``record``: ``company``, ``document``, ``record`` (its fields as
    stored) and ``today`` for every record; partner, contacts, lines, totals, terms for
    a quote, an order or an invoice (and ``invoice`` for an invoice); the opportunity's
    summary for an opportunity."""
    context: dict[str, Any] = {
        "type": RECORD_FOLDERS.get(record.folder, record.folder),
        "today": today.isoformat(),
        "company": company(repo),
        "record": plain(record.data),
        "document": {
            "type": RECORD_FOLDERS.get(record.folder),
            "title": title_of(record.folder),
            "id": record.id,
        },
    }
    if record.folder in DOCUMENTS:
        context.update(_document(repo, record, today))
    elif record.folder == "opportunities":
        from crmfiles.printing.summary import opportunity_summary

        context.update(opportunity_summary(repo, record))
    return context


def plain(value: Any) -> Any:
    """A record's data for a template: floats as exact Decimals, containers copied."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return decimal(value)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def company(repo: Repository) -> dict[str, Any]:
    """Who sends the document: crm.yaml's ``documents.company``, its name defaulting to
    crm.yaml's ``name``."""
    documents = repo.config.raw.get("documents")
    given = documents.get("company") if isinstance(documents, dict) else None
    given = given if isinstance(given, dict) else {}
    out: dict[str, Any] = {key: _text(given.get(key)) for key in COMPANY_FIELDS}
    out["name"] = out["name"] or _text(repo.config.name)
    address = given.get("address")
    out["address"] = [str(a) for a in address] if isinstance(address, list) else []
    return out


def document_setting(repo: Repository, key: str, default: int) -> int:
    documents = repo.config.raw.get("documents")
    value = documents.get(key) if isinstance(documents, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def partner(repo: Repository, partner_id: Any) -> dict[str, Any] | None:
    """The customer as a letter addresses them; None without one."""
    if not isinstance(partner_id, str):
        return None
    found = repo.by_id("partners").get(partner_id)
    data = found.data if found else {}
    address = data.get("address") if isinstance(data.get("address"), dict) else {}
    assert isinstance(address, dict)
    town = " ".join(str(address[k]) for k in ("postal_code", "city") if address.get(k))
    lines = [str(address["street"])] if address.get("street") else []
    lines += [x for x in (town, _text(address.get("region")), _text(address.get("country"))) if x]
    return {
        "id": partner_id,
        "name": _text(data.get("name")) or partner_id,
        "legal_name": _text(data.get("legal_name")),
        "address": lines,
        "vat_id": _text(data.get("vat_id")),
        "email": _text(data.get("email")),
        "phone": _text(data.get("phone")),
        "website": _text(data.get("website")),
    }


def contacts(repo: Repository, ids: Any) -> list[dict[str, Any]]:
    by_id = repo.by_id("contacts")
    out = []
    for contact_id in ids if isinstance(ids, list) else []:
        found = by_id.get(str(contact_id))
        data = found.data if found else {}
        out.append(
            {
                "id": str(contact_id),
                "name": _text(data.get("name")) or str(contact_id),
                "position": _text(data.get("position")),
                "email": _text(data.get("email")),
                "phone": _text(data.get("phone")),
            }
        )
    return out


def lines(data: Mapping[str, Any], products: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each line as printed: what it is, quantity, unit, unit price, discount, tax rate,
    net, tax and gross — the figures of :func:`line_amounts`."""
    out = []
    raw_lines = data.get("lines")
    for n, line in enumerate(raw_lines if isinstance(raw_lines, list) else [], start=1):
        if not isinstance(line, dict):
            continue
        product_id = line.get("product")
        product = products.get(str(product_id)) if product_id is not None else None
        product = product if isinstance(product, dict) else {}
        own = _text(line.get("description"))
        price = decimal(line.get("unit_price"))
        if price is None:
            price = decimal(product.get("price"))
        amounts = line_amounts(line, products)
        discount = decimal(line.get("discount"))
        months = line.get("duration_months")
        out.append(
            {
                "position": n,
                "product": product_id,
                "name": _text(product.get("name")) or own or str(product_id or ""),
                # the line's own words detail a product; else the catalog's description
                "description": (own if product.get("name") else None)
                or _text(product.get("description")),
                "quantity": decimal(line.get("quantity", 1)),
                "unit": _text(product.get("unit")),
                "unit_price": to_cent(price) if price is not None else None,
                "discount": discount if discount else None,
                "months": months if isinstance(months, int) and months > 1 else None,
                "tax_rate": amounts.tax_rate if amounts else None,
                "net": amounts.net if amounts else None,
                "tax": amounts.tax if amounts else None,
                "gross": amounts.gross if amounts else None,
                "comment": _text(line.get("comment")),
            }
        )
    return out


def totals(found: Totals | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "net": found.net,
        "tax": found.tax,
        "gross": found.gross,
        "taxes": [{"rate": r, "net": n, "tax": t} for r, n, t in found.taxes_by_rate()],
    }


def terms(repo: Repository, terms_id: Any) -> dict[str, Any] | None:
    if not isinstance(terms_id, str):
        return None
    entry = repo.catalog("terms").get(terms_id) or {}
    days = entry.get("payment_days")
    return {
        "id": terms_id,
        "name": _text(entry.get("name")) or terms_id,
        "description": _text(entry.get("description")),
        "payment_days": days if isinstance(days, int) and not isinstance(days, bool) else None,
    }


def _linked(repo: Repository, folder: str, record_id: Any, by: Record) -> dict[str, Any]:
    if not isinstance(record_id, str):
        return {}
    found = repo.by_id(folder).get(record_id)
    if found is None:
        raise CrmError(
            f"{by.path}: {RECORD_FOLDERS[folder]} '{record_id}' does not exist",
            hint="`crm validate` lists the references that name nothing",
        )
    return found.data


def _after(date: Any, days: int) -> str | None:
    try:
        return (dt.date.fromisoformat(str(date)) + dt.timedelta(days=days)).isoformat()
    except ValueError:
        return None


def _document(repo: Repository, record: Record, today: dt.date) -> dict[str, Any]:
    data = record.data
    quote: dict[str, Any] = data if record.folder == "quotes" else {}
    order: dict[str, Any] = data if record.folder == "orders" else {}
    if record.folder == "invoices":
        order = _linked(repo, "orders", data.get("order"), record)
    if record.folder in ("orders", "invoices"):
        source = repo.by_id("quotes").get(str(order.get("quote")))
        quote = source.data if source else {}
    carrier = quote if record.folder == "quotes" else order  # the record with the lines
    opportunity_id = (
        data.get("opportunity") or carrier.get("opportunity") or quote.get("opportunity")
    )
    opportunity = repo.by_id("opportunities").get(str(opportunity_id))
    opp = opportunity.data if opportunity else {}
    products = repo.catalog("products")
    found = document_totals(carrier, products)
    if found is None:
        raise CrmError(
            f"{record.path}: cannot be printed without its total: "
            + (
                "it has no lines"
                if not carrier.get("lines")
                else "a line has no unit price and its product no list price"
            ),
            hint="give every line a unit_price (or its product a price)",
        )
    terms_id = carrier.get("terms") or quote.get("terms") or opp.get("terms")
    document = {
        "type": RECORD_FOLDERS[record.folder],
        "title": title_of(record.folder),
        "id": record.id,
        "status": _text(data.get("status")),
        "date": _text(data.get("date")),
        "currency": data.get("currency")
        or carrier.get("currency")
        or opp.get("currency")
        or repo.config.currency,
        "revision": quote.get("revision") if record.folder == "quotes" else None,
        "previous": quote.get("previous") if record.folder == "quotes" else None,
        "valid_until": None,
        "quote": quote.get("id") if record.folder != "quotes" else None,
        "order": order.get("id") if record.folder == "invoices" else None,
        "delivered_on": _text(data.get("delivered_on")),
        "due": None,
        "paid_on": _text(data.get("paid_on")),
        "comment": _text(data.get("comment")),
        "opportunity": {"id": opportunity_id, "name": _text(opp.get("name")) or opportunity_id}
        if opportunity_id
        else None,
    }
    printed_terms = terms(repo, terms_id)
    if record.folder == "quotes":
        document["valid_until"] = _text(data.get("valid_until")) or _after(
            data.get("date") or today.isoformat(),
            document_setting(repo, "quote_validity_days", DEFAULT_VALIDITY_DAYS),
        )
    if record.folder == "invoices":
        days = (printed_terms or {}).get("payment_days")
        if days is None:
            days = document_setting(repo, "payment_days", DEFAULT_PAYMENT_DAYS)
        document["due"] = _text(data.get("due")) or _after(
            data.get("date") or today.isoformat(), days
        )
    context: dict[str, Any] = {
        "document": document,
        "partner": partner(
            repo,
            data.get("partner")
            or carrier.get("partner")
            or quote.get("partner")
            or opp.get("partner"),
        ),
        "contacts": contacts(repo, quote.get("contacts") or opp.get("contacts")),
        "lines": lines(carrier, products),
        "totals": totals(found),
        "terms": printed_terms,
        "invoice": None,
    }
    if record.folder == "invoices":
        context["invoice"] = invoice_share(repo, record, order, found)
    return context


def invoice_share(
    repo: Repository, record: Record, order: Mapping[str, Any], found: Totals
) -> dict[str, Any]:
    """What this invoice asks for out of its order's total: its amount (all that is
    left when it states none), the order's invoices before it (earlier by date, then
    id: a later one does not change what this one said when it was sent), the balance
    after it, and the tax it contains per rate — the order's rates in proportion, the
    last rate taking the rounding so that the parts add up to the amount exactly."""
    mine = _when(record.data)
    others = [r.data for r in repo.records("invoices") if _when(r.data) < mine]
    stated = decimal(record.data.get("amount"))
    left = left_to_invoice(order, others, repo.catalog("products"), but=record.id)
    amount = to_cent(stated) if stated is not None else left if left is not None else found.gross
    other = invoiced(str(order.get("id")), others, but=record.id)
    groups = found.taxes_by_rate()
    parts: list[dict[str, Any]] = []
    if amount == found.gross:
        parts = [{"rate": r, "net": n, "tax": t} for r, n, t in groups]
    elif found.gross:
        rest = amount
        for n, (rate, net, tax) in enumerate(groups):
            part = rest if n == len(groups) - 1 else to_cent((net + tax) * amount / found.gross)
            rest -= part
            tax_part = to_cent(part * rate / (100 + rate))
            parts.append({"rate": rate, "net": part - tax_part, "tax": tax_part})
    zero = Decimal(0)
    return {
        "amount": amount,
        "order_total": found.gross,
        "other_invoices": other,
        "balance": found.gross - other - amount,
        "partial": amount != found.gross,
        "net": sum((p["net"] for p in parts), zero),
        "tax": sum((p["tax"] for p in parts), zero),
        "taxes": parts,
    }


def _when(invoice: Mapping[str, Any]) -> tuple[str, str]:
    """An invoice's place in its order's sequence: its date, then its id."""
    day = iso_date(invoice.get("date"))
    return (day.isoformat() if day else "", str(invoice.get("id")))
