"""The facts of a record: what lists, views, reports and kanban cards read of it,
defined once.

A record's facts are a plain dict, the subset of its top-level fields named in
:data:`FIELDS` (present ones only, values as parsed), so a reader that reads
``data.get(field)`` reads facts and full records alike.  An opportunity's ``lines``
are kept as what they come to (:data:`AMOUNT`, :data:`MARGIN`) when every line states
its price, else reduced to the keys money reads, and its ``competitors`` as each one's
partner and outcome; :func:`amount`, :func:`margin` and :func:`competitors` read both
forms, and full data too.

Facts are a function of a file's content alone, so the cache keeps them by blob id
(:mod:`crmfiles.records.facts_cache`) and a reader of any revision reuses them; a
reader that needs a field not named here reads the whole record
(:func:`covers` says whether facts will do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crmfiles.money import amount_of, decimal, margin_of, weighted

# folder -> the fields kept; None: the whole record (few and small: saved views)
FIELDS: dict[str, tuple[str, ...] | None] = {
    "opportunities": (
        "id",
        "name",
        "partner",
        "kind",
        "stage",
        "status",
        "currency",
        "probability",
        "expected_close",
        "responsible",
        "opened",
        "closed",
        "closed_on",
        "loss_reason",
        "tags",
        "contacts",
    ),
    "partners": ("id", "name", "roles", "country", "responsible", "tags"),
    # the other folders: the columns and filters of their lists (``crm list``), and
    # the references ``crm show`` follows to find what refers to a record
    "contacts": ("id", "name", "partner", "position", "email", "phone", "responsible", "tags"),
    "leads": (
        "id",
        "name",
        "status",
        "company",
        "contact_name",
        "channel",
        "responsible",
        "created",
        "tags",
    ),
    "interactions": (
        "id",
        "at",
        "type",
        "partner",
        "contacts",
        "opportunity",
        "lead",
        "responsible",
        "subject",
    ),
    "tasks": ("id", "due", "title", "assignee", "importance", "subject", "completed"),
    "quotes": ("id", "opportunity", "previous", "partner"),
    "orders": ("id", "quote", "opportunity", "partner"),
    "invoices": ("id", "order", "opportunity", "partner"),
    "views": None,
}
# derived keys, which no YAML field can be named (field names are plain words)
AMOUNT = "=amount"  # money.amount_of as a decimal string (None: no amount)
MARGIN = "=margin"  # money.margin_of as a decimal string (None: no margin stated)
WEIGHTED = "=weighted"  # money.weighted of the amount (None: none)
WEIGHTED_MARGIN = "=weighted_margin"  # money.weighted of the margin (None: none)
COMPETITORS = "=competitors"  # each competitor's partner and outcome
# a file that cannot be read as YAML: what is wrong (``path:line: message``); a
# table leaves it out of its rows and names it (FactTable.unreadable)
UNREADABLE = "=unreadable"
# what money reads of a line whose price may come from the products catalog
LINE_KEYS = ("product", "quantity", "unit_price", "discount", "duration_months", "margin")
# fields a list shows through this module, not as stored (the amount column is
# money.amount_of's)
READ_HERE = frozenset({"amount"})


def kept(folder: str) -> bool:
    """Whether the cache keeps facts of this folder's records."""
    return folder in FIELDS


def covers(folder: str, fields: Iterable[str]) -> bool:
    """Whether facts hold every one of ``fields`` (else read whole records)."""
    names = FIELDS.get(folder, ())
    return names is None or all(f in names or f in READ_HERE for f in fields)


def holds(folder: str, field: str) -> bool:
    """Whether facts keep ``field`` as stored (``data.get(field)`` of facts is that of
    the record)."""
    names = FIELDS.get(folder, ())
    return names is None or field in names


def facts_of(folder: str, data: dict[str, Any]) -> dict[str, Any]:
    """The facts of one record's parsed data (a dict)."""
    names = FIELDS[folder]
    if names is None:
        return data
    out = {key: data[key] for key in names if key in data}
    if folder == "opportunities":
        lines = data.get("lines")
        if not isinstance(lines, list) or all(_priced(line) for line in lines):
            total, kept_margin = amount_of(data), margin_of(data)
            out[AMOUNT], out[MARGIN] = _text(total), _text(kept_margin)
            probability = data.get("probability")
            out[WEIGHTED] = _text(weighted(total, probability))
            out[WEIGHTED_MARGIN] = _text(weighted(kept_margin, probability))
        else:  # a price from the products catalog: money reads the lines then
            out["lines"] = [
                {k: line[k] for k in LINE_KEYS if k in line} if isinstance(line, dict) else line
                for line in lines
            ]
            if "amount" in data:
                out["amount"] = data["amount"]
        competitors = data.get("competitors")
        if isinstance(competitors, list) and competitors:
            out[COMPETITORS] = [
                {k: c[k] for k in ("partner", "outcome") if k in c} if isinstance(c, dict) else c
                for c in competitors
            ]
    return out


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _priced(line: Any) -> bool:
    """A line whose total needs no catalog (a line that is not a mapping has none)."""
    return not isinstance(line, dict) or decimal(line.get("unit_price")) is not None


def amount(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """:func:`crmfiles.money.amount_of` of facts or of full data: ``amount``, else the
    lines' sum."""
    if AMOUNT in data:
        value = data[AMOUNT]
        return None if value is None else Decimal(value)
    return amount_of(data, products)


def margin(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """:func:`crmfiles.money.margin_of` of facts or of full data."""
    if MARGIN in data:
        value = data[MARGIN]
        return None if value is None else Decimal(value)
    return margin_of(data, products)


def weighted_of(
    data: Mapping[str, Any], value: Decimal | None, *, of_margin: bool = False
) -> Decimal | None:
    """:func:`crmfiles.money.weighted` of ``value`` (the record's amount, or with
    ``of_margin`` its margin) by its probability, of facts or of full data."""
    key = WEIGHTED_MARGIN if of_margin else WEIGHTED
    if key in data:
        kept_value = data[key]
        return None if kept_value is None else Decimal(kept_value)
    return weighted(value, data.get("probability"))


def competitors(data: Mapping[str, Any]) -> Any:
    """An opportunity's ``competitors`` (of facts: each one's partner and outcome)."""
    return data[COMPETITORS] if COMPETITORS in data else data.get("competitors")
