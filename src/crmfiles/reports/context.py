"""The repository as a list or a record's page sees it: what ``crm list`` shows of each
record type (:data:`KINDS`), and the values derived from other records (a quote's
partner is its opportunity's, an invoice's its order's), read from the other
folders' facts where they keep the field, else from the folder read whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from crmfiles.documents.totals import Totals, document_totals, invoiced
from crmfiles.money import amount_of
from crmfiles.records import iso_date
from crmfiles.records.facts import holds
from crmfiles.records.store import Record, Repository


@dataclass(frozen=True)
class Kind:
    """What ``crm list FOLDER`` shows of one record type."""

    folder: str
    columns: tuple[str, ...]  # the default columns
    filters: tuple[str, ...]  # the filter options that fit it
    derived: tuple[str, ...] = ()  # columns computed, not stored
    money: bool = False  # amounts, with totals

    @property
    def sums(self) -> tuple[str, ...]:
        """The money columns a list of this type totals (its ``amount`` first)."""
        if not self.money:
            return ()
        return ("amount", "open_amount") if self.folder == "invoices" else ("net", "tax", "gross")


KINDS: dict[str, Kind] = {
    k.folder: k
    for k in (
        Kind(
            "partners",
            ("id", "name", "roles", "country", "responsible", "tags"),
            ("role", "tag", "responsible"),
            ("responsible_name",),
        ),
        Kind(
            "contacts",
            ("id", "name", "partner", "position", "email", "phone"),
            ("partner", "responsible", "tag"),
            ("partner_name", "responsible_name"),
        ),
        Kind(
            "leads",
            (
                "id",
                "name",
                "status",
                "company",
                "contact_name",
                "channel",
                "responsible",
                "created",
            ),
            ("status", "responsible", "tag"),
            ("responsible_name",),
        ),
        Kind(
            "interactions",
            ("id", "at", "type", "partner", "opportunity", "responsible", "subject"),
            ("partner", "opportunity", "type", "since", "responsible"),
            ("partner_name", "responsible_name"),
        ),
        Kind(
            "tasks",
            ("id", "due", "state", "title", "assignee", "importance", "subject"),
            ("assignee", "open", "done", "overdue", "subject"),
            ("state", "subject_type", "assignee_name"),
        ),
        Kind(
            "quotes",
            (
                "id",
                "opportunity",
                "revision",
                "status",
                "date",
                "valid_until",
                "net",
                "tax",
                "gross",
                "currency",
            ),
            ("status", "partner", "opportunity"),
            ("net", "tax", "gross", "amount", "partner", "partner_name"),
            money=True,
        ),
        Kind(
            "orders",
            (
                "id",
                "quote",
                "opportunity",
                "partner",
                "date",
                "status",
                "net",
                "tax",
                "gross",
                "currency",
            ),
            ("status", "partner", "opportunity"),
            ("net", "tax", "gross", "amount", "invoiced", "partner_name"),
            money=True,
        ),
        Kind(
            "invoices",
            (
                "id",
                "order",
                "partner",
                "date",
                "due",
                "status",
                "amount",
                "open_amount",
                "currency",
                "paid_on",
            ),
            ("status", "partner", "opportunity", "overdue"),
            ("open_amount", "opportunity", "partner_name"),
            money=True,
        ),
    )
}

MONEY = frozenset({"amount", "net", "tax", "gross", "open_amount", "invoiced"})

# the record folders a task's subject may name, by its type
SUBJECTS = {"opportunity": "opportunities", "partner": "partners", "contact": "contacts",
            "lead": "leads", "quote": "quotes"}  # fmt: skip


# what Context.opportunity and Context.partner read of a document that may name its
# opportunity and partner through the records it comes from (an order's quote)
LINKS = {
    "orders": ("opportunity", "quote", "partner"),
    "invoices": ("opportunity", "order", "partner"),
}


class Context:
    """The repository as one list sees it: other folders read only when asked for."""

    def __init__(self, repo: Repository, today: dt.date | None = None) -> None:
        self.repo = repo
        self.today = today or dt.date.today()

    def folder(self, name: str) -> dict[str, Record]:
        """One folder's records whole, by id (the folder read whole)."""
        return self.repo.by_id(name)

    def ids(self, folder: str) -> list[str]:
        """The ids of one folder's records (of its facts)."""
        return self.repo.fact_table(folder).ids

    def data_of(
        self, folder: str, record_id: Any, fields: Iterable[str]
    ) -> Mapping[str, Any] | None:
        """The record ``record_id`` of ``folder`` as far as ``fields`` go (None: there
        is none): its facts when they keep every one, else the record whole."""
        if all(holds(folder, f) for f in fields):
            table = self.repo.fact_table(folder)
            i = table.where(str(record_id))
            return None if i is None else table.row(i)
        record = self.folder(folder).get(str(record_id))
        return record.data if record else None

    @cached_property
    def products(self) -> dict[str, dict[str, Any]]:
        return self.repo.catalog("products")

    @cached_property
    def people(self) -> dict[str, dict[str, Any]]:
        return self.repo.catalog("people")

    def field_of(self, folder: str, record_id: Any, field_name: str) -> Any:
        """A field of the record ``record_id`` of ``folder`` (None: no such record or
        field): of its facts when they keep the field, else of the record whole."""
        if record_id is None:
            return None
        if not holds(folder, field_name):
            record = self.folder(folder).get(str(record_id))
            return record.data.get(field_name) if record else None
        table = self.repo.fact_table(folder)
        i = table.where(str(record_id))
        return None if i is None else table.column(field_name)[i]

    def name_of(self, folder: str, ref: Any) -> str | None:
        """A reference's display name: the catalog entry's or the record's ``name``."""
        if ref is None:
            return None
        if folder != "people":
            return str(self.field_of(folder, ref, "name") or ref)
        entry = self.people.get(str(ref))
        return str(entry.get("name") or ref) if isinstance(entry, dict) else str(ref)

    def currency(self, data: Mapping[str, Any]) -> str:
        return str(data.get("currency") or self.repo.config.currency)

    # --- values derived from other records ------------------------------------------

    def opportunity(self, folder: str, data: Mapping[str, Any]) -> Any:
        if data.get("opportunity") is not None or folder in ("quotes", "interactions"):
            return data.get("opportunity")
        if folder == "orders":
            return self.field_of("quotes", data.get("quote"), "opportunity")
        if folder == "invoices":
            order = self.data_of("orders", data.get("order"), ("opportunity", "quote"))
            return self.opportunity("orders", order) if order is not None else None
        return None

    def partner(self, folder: str, data: Mapping[str, Any]) -> Any:
        if data.get("partner") is not None or folder in ("contacts", "interactions"):
            return data.get("partner")
        if folder == "invoices":
            order = self.data_of("orders", data.get("order"), ("partner", "opportunity", "quote"))
            return self.partner("orders", order) if order is not None else None
        if folder in ("quotes", "orders"):
            return self.field_of("opportunities", self.opportunity(folder, data), "partner")
        return None

    def totals(self, data: Mapping[str, Any]) -> Totals | None:
        return document_totals(data, self.products)

    def amount(self, folder: str, data: Mapping[str, Any]) -> Decimal | None:
        """What a document comes to, tax included: an invoice's amount, the gross of a
        quote's or an order's lines."""
        if folder == "invoices":
            return amount_of(data)
        totals = self.totals(data)
        return totals.gross if totals is not None else None

    def money(self, folder: str, data: Mapping[str, Any], column: str) -> Decimal | None:
        if column == "amount":
            return self.amount(folder, data)
        if column == "open_amount":  # what the customer still owes of an invoice
            amount = amount_of(data)
            return amount if data.get("status") == "open" or amount is None else Decimal("0.00")
        if column == "invoiced":  # what an order's invoices (open or paid) come to
            counted = [r.data for r in self.folder("invoices").values()]
            return invoiced(str(data.get("id")), counted)
        totals = self.totals(data)
        return None if totals is None else getattr(totals, column)

    def state(self, data: Mapping[str, Any]) -> str:
        """A task's state: done, overdue (due before today) or open."""
        if data.get("completed"):
            return "done"
        due = iso_date(data.get("due"))
        return "overdue" if due is not None and due < self.today else "open"

    def value(self, folder: str, data: Mapping[str, Any], column: str) -> Any:
        if column in MONEY and KINDS[folder].money:
            return self.money(folder, data, column)
        if column == "currency" and KINDS[folder].money:
            return self.currency(data)
        if column == "partner":
            return self.partner(folder, data)
        if column == "opportunity":
            return self.opportunity(folder, data)
        if column == "partner_name":
            return self.name_of("partners", self.partner(folder, data))
        if column in ("responsible_name", "assignee_name"):
            return self.name_of("people", data.get(column.removesuffix("_name")))
        if folder == "tasks":
            subject = data.get("subject")
            subject = subject if isinstance(subject, dict) else {}
            if column == "state":
                return self.state(data)
            if column == "subject":
                return subject.get("id")
            if column == "subject_type":
                return subject.get("type")
        return data.get(column)


@dataclass
class Item:
    """One record in a list."""

    record: Record
    ctx: Context

    def value(self, column: str) -> Any:
        return self.ctx.value(self.record.folder, self.record.data, column)
