"""Every record type but opportunities as a list (those are ``pipeline.py``'s): the
default columns of each type, the values derived from other records (a quote's
partner is its opportunity's), filters checked against the catalogs and records they
name, sorting, and the money totals of quotes, orders and invoices: net, tax and gross
of a quote's or an order's lines (:func:`crmfiles.documents.totals.document_totals`),
an invoice's amount and what of it is still open (unpaid).

A list reads its own folder and the catalogs; another folder only when a column or a
filter asks for it (a quote's partner reads the opportunities).  A folder is read as
facts (:mod:`crmfiles.records.facts`, from the warm cache) when they keep every field
the list reads, else whole.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmfiles.documents.lifecycle import COUNTED_INVOICE, OPEN_QUOTE, is_overdue
from crmfiles.errors import CrmError
from crmfiles.money import Total, rates_from
from crmfiles.records import RECORD_FOLDERS, iso_date
from crmfiles.records.facts import holds
from crmfiles.records.store import Repository
from crmfiles.reports.context import KINDS, SUBJECTS, Context, Item
from crmfiles.reports.pipeline import as_list, sort_rows

#: the documents a list's totals count, unless ``--status`` picks the statuses: the
#: quotes still open (a lost or revised quote sold nothing, and a revision's total would
#: count twice), the orders and invoices not canceled (as ``crm report invoicing``)
COUNTED: dict[str, frozenset[str]] = {
    "quotes": OPEN_QUOTE,
    "orders": frozenset({"open", "delivered"}),
    "invoices": COUNTED_INVOICE,
}


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
        "partner": lambda: (ctx.ids("partners"), "partner/partners"),
        "opportunity": lambda: (ctx.ids("opportunities"), "opportunity/opportunities"),
        "subject": lambda: (
            [rid for f in SUBJECTS.values() for rid in ctx.ids(f)],
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


# the fields a column or a filter (named as its option) reads, where they are not the
# one of its name (Context.value, _matches); a list of a type without money reads its
# records' facts when they keep every one
READS: dict[str, tuple[str, ...]] = {
    "responsible_name": ("responsible",),
    "assignee_name": ("assignee",),
    "partner_name": ("partner",),
    "state": ("completed", "due"),
    "open": ("completed", "due"),
    "done": ("completed", "due"),
    "overdue": ("completed", "due"),
    "subject_type": ("subject",),
    "tag": ("tags",),
    "role": ("roles",),
    "since": ("at", "date"),
}


def _as_facts(folder: str, keys: Iterable[str]) -> bool:
    """Whether a list of ``folder`` that reads ``keys`` (columns, sort keys and
    filters) can read its records' facts."""
    names = {k.lstrip("-+").removesuffix(":desc").removesuffix(":asc") for k in keys}
    fields = {f for n in names for f in READS.get(n, (n,))} | {"id"}
    return not KINDS[folder].money and all(holds(folder, f) for f in fields)


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
    check_sort(sort, known_columns(folder))
    as_facts = _as_facts(folder, [*(columns or kind.columns), *sort, *filters])
    # git looks at this folder alone, and at each other folder alone when one is asked
    # for (a filter's partners, a column's names)
    repo.fact_tables([folder] if as_facts else [])
    check_filters(ctx, folder, filters)
    chosen = [
        Item(record, ctx)
        for record in (repo.facts(folder) if as_facts else repo.records(folder))
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
