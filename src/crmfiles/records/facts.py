"""The facts of a record: what lists, views, reports and kanban cards read of it,
defined once.

A record's facts are a plain dict, the subset of its top-level fields named in
:data:`FIELDS` (present ones only, values as parsed), so a reader that reads
``data.get(field)`` reads facts and full records alike.  An opportunity's ``lines``
are kept as what they add up to (:data:`LINES_TOTAL`, :data:`LINES_MARGIN`) when every
line states its price, else reduced to the keys money reads; :func:`amount` and
:func:`margin` read both forms, and full data too, as :mod:`crmfiles.money` reads it.

Facts are a function of a file's content alone, so the cache keeps them by blob id
(:mod:`crmfiles.records.facts_cache`) and a reader of any revision reuses them; a
reader that needs a field not named here reads the whole record
(:func:`covers` says whether facts will do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crmfiles.money import decimal, lines_total, margin_of, to_cent

# folder -> the fields kept; None: the whole record (few and small: saved views)
FIELDS: dict[str, tuple[str, ...] | None] = {
    "opportunities": (
        "id",
        "name",
        "partner",
        "kind",
        "stage",
        "status",
        "amount",
        "currency",
        "probability",
        "expected_close",
        "responsible",
        "opened",
        "closed",
        "closed_on",
        "loss_reason",
        "tags",
        "competitors",
        "team",
        "channel",
        "source",
        "campaign",
    ),
    "partners": ("id", "name", "roles", "country", "responsible", "tags"),
    "views": None,
}
# derived keys, which no YAML field can be named (field names are plain words)
LINES_TOTAL = "=lines_total"  # the lines' sum (a decimal string; None: a line unpriced)
LINES_MARGIN = "=lines_margin"  # their margin amount (a decimal string; None: none stated)
# what money reads of a line whose price may come from the products catalog
LINE_KEYS = ("product", "quantity", "unit_price", "discount", "duration_months", "margin")


def kept(folder: str) -> bool:
    """Whether the cache keeps facts of this folder's records."""
    return folder in FIELDS


def covers(folder: str, fields: Iterable[str]) -> bool:
    """Whether facts hold every one of ``fields`` (else read whole records)."""
    names = FIELDS.get(folder, ())
    return names is None or all(f in names for f in fields)


def facts_of(folder: str, data: dict[str, Any]) -> dict[str, Any]:
    """The facts of one record's parsed data (a dict)."""
    names = FIELDS[folder]
    if names is None:
        return data
    out = {key: data[key] for key in names if key in data}
    if folder == "opportunities":
        lines = data.get("lines")
        if isinstance(lines, list) and lines:
            if all(_priced(line) for line in lines):
                total, kept_margin = lines_total(data), margin_of(data)
                out[LINES_TOTAL] = None if total is None else str(total)
                out[LINES_MARGIN] = None if kept_margin is None else str(kept_margin)
            else:  # a price from the products catalog: money reads the lines then
                out["lines"] = [
                    {k: line[k] for k in LINE_KEYS if k in line} if isinstance(line, dict) else line
                    for line in lines
                ]
    return out


def _priced(line: Any) -> bool:
    """A line whose total needs no catalog (a line that is not a mapping has none)."""
    return not isinstance(line, dict) or decimal(line.get("unit_price")) is not None


def amount(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """:func:`crmfiles.money.amount_of` of facts or of full data: ``amount``, else the
    lines' sum."""
    stated = decimal(data.get("amount"))
    if stated is not None:
        return to_cent(stated)
    if LINES_TOTAL in data:
        total = data[LINES_TOTAL]
        return None if total is None else Decimal(total)
    return lines_total(data, products)


def margin(data: Mapping[str, Any], products: Mapping[str, Any] | None = None) -> Decimal | None:
    """:func:`crmfiles.money.margin_of` of facts or of full data."""
    if LINES_MARGIN in data:
        value = data[LINES_MARGIN]
        return None if value is None else Decimal(value)
    return margin_of(data, products)
