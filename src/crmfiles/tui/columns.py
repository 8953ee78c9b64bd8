"""The opportunity list's columns: their labels, which hold numbers, what a narrow
screen keeps, the filters, a saved view's columns, filters and sort, the facts a list
row keeps, and the order values sort in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crmfiles.records import facts
from crmfiles.records.store import Record
from crmfiles.reports.pipeline import DEFAULT_COLUMNS, as_list

MARGINS = frozenset({"margin", "weighted_margin"})
NUMERIC = frozenset({"amount", "weighted", "probability", "age", "days_in_stage", *MARGINS})
MONEY = frozenset({"amount", "weighted", *MARGINS})
LABELS = {
    "id": "Id",
    "name": "Name",
    "partner": "Partner",
    "kind": "Kind",
    "stage": "Stage",
    "status": "Status",
    "amount": "Amount",
    "currency": "Cur",
    "probability": "Prob%",
    "weighted": "Weighted",
    "expected_close": "Close by",
    "responsible": "Responsible",
    "days_in_stage": "Days",
    "closed_on": "Closed on",
    "loss_reason": "Loss reason",
    "tags": "Tags",
    "opened": "Opened",
    "age": "Age",
}
# what a narrow screen keeps: 0 always, then 1, 2...; the highest numbers go first
PRIORITY = {
    "name": 0,
    "id": 0,
    "amount": 0,
    "stage": 1,
    "currency": 1,
    "probability": 2,
    "weighted": 2,
    "partner": 3,
    "expected_close": 3,
    "status": 4,
    "responsible": 4,
    "closed_on": 4,
    "loss_reason": 5,
    "days_in_stage": 6,
    "kind": 6,
    "opened": 7,
    "age": 7,
    "tags": 8,
}
# the list shows names where a column holds a reference
NAMED = {"partner": "partners", "responsible": "people", "kind": "kinds", "loss_reason": ""}
FILTERS = ("stage", "status", "responsible", "tag", "kind")

# what an opportunity's list row does not keep of its facts (unless a saved view
# shows it): its contacts, and the money worked out (the row holds its own)
NOT_LISTED = frozenset(
    {
        "contacts",
        facts.AMOUNT,
        facts.MARGIN,
        facts.WEIGHTED,
        facts.WEIGHTED_MARGIN,
        facts.COMPETITORS,
    }
)


def listed_fields(views: Iterable[Record]) -> set[str]:
    """The opportunities' facts a list row keeps: all but :data:`NOT_LISTED`, unless
    a saved view shows it."""
    kept = set(facts.FIELDS["opportunities"] or ())
    return (kept - NOT_LISTED) | (view_fields(views) & kept)


def shows_margin(views: Iterable[Record]) -> bool:
    """Whether a saved view shows or sorts by a margin (worked out from the lines)."""
    for view in views:
        shown = set(map(str, view_columns(view.data)))
        shown.update(k.lstrip("+-") for k in view_sort(view.data))
        if shown & MARGINS:
            return True
    return False


def view_fields(views: Iterable[Record]) -> set[str]:
    """The fields the saved views show, filter and sort by (the list's columns)."""
    from crmfiles.reports.pipeline import DERIVED

    wanted = set(DEFAULT_COLUMNS) | {"tags", "name", "partner"}  # (the search's)
    for view in views:
        data = view.data
        wanted.update(map(str, view_columns(data)))
        wanted.update("tags" if k == "tag" else k for k in view_filters(data))
        wanted.update(k.lstrip("+-") for k in view_sort(data))
    return wanted - DERIVED - {"days_in_stage"}


def sort_key(value: Any) -> tuple[int, Decimal, str]:
    """Numbers before text, missing values last, whatever a column mixes."""
    if value is None or value == "":
        return (2, Decimal(0), "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), "")
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return (1, Decimal(0), str(value).casefold())


# fields whose sort value is the field's value as the record has it (sort_value and
# Row.value work the others out: names, stage order, money, age, days)
PLAIN_SORT = frozenset(
    {"name", "id", "expected_close", "opened", "closed_on", "probability", "status", "tags"}
)


def sort_keys(values: list[Any]) -> tuple[list[Any], list[bool]]:
    """What :func:`sort_key` orders ``values`` by, in a form quicker to compare (the
    text alone where every value is text, the number alone where every value is a
    number; the tuples otherwise), and which values are missing (sorted last)."""
    missing = [v is None or v == "" for v in values]
    kinds = set(map(type, values)) - {type(None)}
    if kinds <= {str}:
        return [v.casefold() if v else "" for v in values], missing
    if kinds <= {int, float, Decimal}:
        return [Decimal(0) if v is None else Decimal(str(v)) for v in values], missing
    return [sort_key(v) for v in values], missing


def view_columns(view: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(c) for c in view.get("columns") or DEFAULT_COLUMNS)


def view_filters(view: Mapping[str, Any]) -> dict[str, list[str]]:
    return {str(k): as_list(v) for k, v in (view.get("filter") or {}).items()}


def view_sort(view: Mapping[str, Any]) -> list[str]:
    return as_list(view.get("sort"))
