"""Every record type but opportunities as a list (those are ``pipeline.py``'s): the
default columns of each type, the values derived from other records (a quote's
partner is its opportunity's), filters checked against the catalogs and records they
name, sorting, and the money totals of quotes, orders and invoices: net, tax and gross
of a quote's or an order's lines (:func:`crmfiles.documents.totals.document_totals`),
an invoice's amount and what of it is still open (unpaid).

A list reads its own folder and the catalogs; another folder only when a column or a
filter asks for it (a quote's partner reads the opportunities).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from crmfiles.documents.lifecycle import COUNTED_INVOICE, OPEN_QUOTE, is_overdue
from crmfiles.documents.totals import Totals, document_totals, invoiced
from crmfiles.errors import CrmError
from crmfiles.money import Total, amount_of, rates_from
from crmfiles.records import RECORD_FOLDERS, iso_date
from crmfiles.records.store import Record, Repository
from crmfiles.reports.pipeline import as_list, sort_rows


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

#: the documents a list's totals count, unless ``--status`` picks the statuses: the
#: quotes still open (a lost or revised quote sold nothing, and a revision's total would
#: count twice), the orders and invoices not canceled (as ``crm report invoicing``)
COUNTED: dict[str, frozenset[str]] = {
    "quotes": OPEN_QUOTE,
    "orders": frozenset({"open", "delivered"}),
    "invoices": COUNTED_INVOICE,
}

# the record folders a task's subject may name, by its type
SUBJECTS = {"opportunity": "opportunities", "partner": "partners", "contact": "contacts",
            "lead": "leads", "quote": "quotes"}  # fmt: skip


def schema_enum(record_type: str, field_name: str) -> list[str]:
    """The values a field's schema allows (``status`` of a quote, ``roles`` of a partner)."""
    from crmfiles.schema import all_schemas

    node = all_schemas()[record_type]["properties"].get(field_name, {})
    node = node.get("items", node)
    return [str(v) for v in node.get("enum", [])]


def known_columns(folder: str) -> list[str]:
    """What ``--columns`` and ``--sort`` may name for a type: its fields and derived ones."""
    from crmfiles.schema import all_schemas

    if folder == "opportunities":
        from crmfiles.reports.pipeline import DERIVED

        derived: Iterable[str] = sorted(DERIVED | {"days_in_stage"})
    else:
        derived = KINDS[folder].derived
    fields = all_schemas()[RECORD_FOLDERS[folder]]["properties"]
    return [*fields, *(d for d in derived if d not in fields)]


def check_column(name: str, known: Sequence[str], what: str = "column") -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CrmError(f"no {what} '{name}'", hint=f"{hint}columns: {', '.join(known)}")


def check_sort(keys: Sequence[str], known: Sequence[str]) -> None:
    """``--sort`` names columns there are (``-amount`` and ``amount:desc`` included)."""
    for key in keys:
        check_column(key.lstrip("-+").removesuffix(":desc").removesuffix(":asc"), known, "column")


def check_values(option: str, values: Iterable[str], known: Iterable[str], what: str) -> None:
    """Each value of ``--option`` names something there is; else exit 2 with the
    nearest match, never an empty list.  ``what``: "person/people"."""
    singular, _, plural = what.partition("/")
    known = sorted(set(known))
    for value in values:
        if value in known:
            continue
        folded = {k.casefold(): k for k in known}
        close = [folded[value.casefold()]] if value.casefold() in folded else []
        close = close or difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else ""
        if len(known) <= 12:
            hint += f" {plural or singular}: {', '.join(known) or 'none'}"
        elif not close:
            hint = f"`crm list {plural}` shows them" if plural in KINDS else ""
        raise CrmError(f"--{option} {value}: no {singular} '{value}'", hint=hint.strip() or None)


class Context:
    """The repository as one list sees it: other folders read only when asked for."""

    def __init__(self, repo: Repository, today: dt.date | None = None) -> None:
        self.repo = repo
        self.today = today or dt.date.today()

    def folder(self, name: str) -> dict[str, Record]:
        return self.repo.by_id(name)

    @cached_property
    def products(self) -> dict[str, dict[str, Any]]:
        return self.repo.catalog("products")

    @cached_property
    def people(self) -> dict[str, dict[str, Any]]:
        return self.repo.catalog("people")

    def field_of(self, folder: str, record_id: Any, field_name: str) -> Any:
        record = self.folder(folder).get(str(record_id)) if record_id is not None else None
        return record.data.get(field_name) if record else None

    def name_of(self, folder: str, ref: Any) -> str | None:
        """A reference's display name: the catalog entry's or the record's ``name``."""
        if ref is None:
            return None
        entry: Any = self.people.get(str(ref)) if folder == "people" else None
        if folder != "people":
            record = self.folder(folder).get(str(ref))
            entry = record.data if record else None
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
            order = self.folder("orders").get(str(data.get("order")))
            return self.opportunity("orders", order.data) if order else None
        return None

    def partner(self, folder: str, data: Mapping[str, Any]) -> Any:
        if data.get("partner") is not None or folder in ("contacts", "interactions"):
            return data.get("partner")
        if folder == "invoices":
            order = self.folder("orders").get(str(data.get("order")))
            return self.partner("orders", order.data) if order else None
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


@dataclass
class ItemListing:
    folder: str
    rows: list[Item]
    columns: tuple[str, ...]
    amount: Total | None  # quotes, orders and invoices: what they come to, tax included
    sums: dict[str, Total] = field(default_factory=dict)  # net, tax, gross; open_amount
    left_out: list[str] = field(default_factory=list)  # files of the folder not readable
    # the statuses the totals count (None: every row), and how many rows that is
    counted: tuple[str, ...] | None = None
    counted_rows: int = 0

    weighted = None  # (the opportunity list's; none here)
    view = None

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """Every listed record's value of a column, in order."""
        return [row.value(name) for row in self.rows]


def check_filters(ctx: Context, folder: str, filters: Mapping[str, Any]) -> None:
    """Every filter value names a catalog entry, an allowed value or a record."""
    repo = ctx.repo
    vocab: dict[str, Callable[[], tuple[Iterable[str], str]]] = {
        "status": lambda: (schema_enum(RECORD_FOLDERS[folder], "status"), "status/statuses"),
        "responsible": lambda: (ctx.people, "person/people"),
        "assignee": lambda: (ctx.people, "person/people"),
        "tag": lambda: (repo.catalog("tags"), "tag/tags"),
        "stage": lambda: (repo.catalog("stages"), "stage/stages"),
        "kind": lambda: (repo.catalog("kinds"), "kind/kinds"),
        "role": lambda: (schema_enum("partner", "roles"), "role/roles"),
        "type": lambda: (schema_enum("interaction", "type"), "type/types"),
        "partner": lambda: (ctx.folder("partners"), "partner/partners"),
        "opportunity": lambda: (ctx.folder("opportunities"), "opportunity/opportunities"),
        "subject": lambda: (
            [rid for f in SUBJECTS.values() for rid in ctx.folder(f)],
            "opportunity, partner, contact, lead or quote/",
        ),
    }
    for key, values in filters.items():
        if key in vocab and values:
            known, what = vocab[key]()
            check_values(key, values, known, what)


def _matches(
    ctx: Context, folder: str, data: Mapping[str, Any], filters: Mapping[str, Any]
) -> bool:
    for key, wanted in filters.items():
        if not wanted:
            continue
        if key in ("tag", "role"):
            have = as_list(data.get("tags" if key == "tag" else "roles"))
            if not any(v in wanted for v in have):
                return False
        elif key == "since":
            day = iso_date(data.get("at") or data.get("date"))
            if day is None or day < wanted:
                return False
        elif key == "overdue" and folder == "invoices":
            if not is_overdue(data, ctx.today):
                return False
        elif key in ("open", "done", "overdue"):
            state = ctx.state(data)
            if not (state == key or (key == "open" and state == "overdue")):
                return False
        else:
            column = "subject" if key == "subject" else key
            if str(ctx.value(folder, data, column)) not in wanted:
                return False
    return True


def item_listing(
    repo: Repository,
    folder: str,
    filters: Mapping[str, Any],
    sort: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    today: dt.date | None = None,
) -> ItemListing:
    """The records of ``folder`` that pass ``filters``, sorted (by id unless asked)."""
    kind = KINDS[folder]
    ctx = Context(repo, today)
    check_filters(ctx, folder, filters)
    check_sort(sort, known_columns(folder))
    chosen = [
        Item(record, ctx)
        for record in repo.records(folder)
        if _matches(ctx, folder, record.data, filters)
    ]
    chosen = sort_rows(chosen, list(sort) or ["id"])
    sums: dict[str, Total] = {}
    rates = rates_from(repo.catalog("currencies").values())
    statuses = None if filters.get("status") else COUNTED.get(folder)
    counted = [i for i in chosen if statuses is None or i.record.data.get("status") in statuses]
    for column in kind.sums:
        sums[column] = Total(repo.config.currency, rates)
        for item in counted:
            sums[column].add(item.value(column), item.value("currency"))
    total = sums.get("gross", sums.get("amount"))
    shown = tuple(columns or kind.columns)
    order = schema_enum(RECORD_FOLDERS[folder], "status") if statuses else []
    return ItemListing(
        folder,
        chosen,
        shown,
        total,
        sums,
        repo.unreadable_in(folder),
        tuple(s for s in order if s in (statuses or ())) if statuses else None,
        len(counted),
    )
