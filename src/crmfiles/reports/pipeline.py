"""The opportunity list row by row: rows with derived values, filters, saved views,
sorting (the plain path `reports.deal_list` is held to by its tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from crmfiles.errors import CrmError
from crmfiles.records import facts
from crmfiles.records.store import Record, Repository

DEFAULT_COLUMNS = (
    "id",
    "name",
    "partner",
    "kind",
    "stage",
    "status",
    "amount",
    "currency",
    "probability",
    "weighted",
    "expected_close",
    "responsible",
)
DERIVED = {
    "weighted",
    "margin",
    "weighted_margin",
    "age",
    "partner_name",
    "stage_name",
    "responsible_name",
}
R = TypeVar("R", bound="_Valued")
FILTER_KEYS = ("stage", "status", "responsible", "tag", "kind", "partner", "closed")


@dataclass(slots=True)
class Row:
    record: Record
    amount: Decimal | None
    weighted: Decimal | None
    currency: str
    names: Mapping[str, str] = field(default_factory=dict)
    days: int | None = None  # in the current stage, when the list asked git
    margin: Decimal | None = None  # the lines' margin amounts
    weighted_margin: Decimal | None = None

    def value(self, column: str) -> Any:
        data = self.record.data
        if column == "days_in_stage":
            return self.days
        if column == "amount":
            return self.amount
        if column == "weighted":
            return self.weighted
        if column == "margin":
            return self.margin
        if column == "weighted_margin":
            return self.weighted_margin
        if column == "currency":
            return self.currency
        if column == "age":
            opened = data.get("opened")
            try:
                return (dt.date.today() - dt.date.fromisoformat(str(opened))).days
            except ValueError:
                return None
        if column.endswith("_name"):
            return self.names.get(column)
        return data.get(column)


def rows(repo: Repository, *, whole: bool = False) -> list[Row]:
    """Every opportunity as a row: from their facts (:mod:`crmfiles.records.facts`),
    or ``whole`` records when a column or filter asks for a field facts lack."""
    products = repo.catalog("products")
    partners: dict[Any, Any] = {r.id: r.data.get("name") for r in repo.facts("partners")}
    stages: dict[Any, Any] = {k: v.get("name") for k, v in repo.catalog("stages").items()}
    people: dict[Any, Any] = {k: v.get("name") for k, v in repo.catalog("people").items()}
    out = []
    records = repo.records("opportunities") if whole else repo.facts("opportunities")
    for record in records:
        data = record.data
        amount = facts.amount(data, products)
        margin = facts.margin(data, products)
        names = {
            "partner_name": str(partners.get(data.get("partner"), data.get("partner", ""))),
            "stage_name": str(stages.get(data.get("stage"), data.get("stage") or "")),
            "responsible_name": str(people.get(data.get("responsible"), "")),
        }
        out.append(
            Row(
                record,
                amount,
                facts.weighted_of(data, amount),
                str(data.get("currency") or repo.config.currency),
                names,
                margin=margin,
                weighted_margin=facts.weighted_of(data, margin, of_margin=True),
            )
        )
    return out


def matches(row: Row, filters: Mapping[str, Sequence[str]]) -> bool:
    data = row.record.data
    for key, wanted in filters.items():
        if not wanted:
            continue
        if key == "tag":
            tags = data.get("tags")
            if not isinstance(tags, list) or not any(t in wanted for t in tags):
                return False
        elif key == "closed":
            if str(bool(data.get("closed"))).lower() not in [w.lower() for w in wanted]:
                return False
        elif str(data.get(key)) not in wanted:
            return False
    return True


def view(repo: Repository, view_id: str | None) -> dict[str, Any]:
    """A saved view by id; the default view when ``view_id`` is ``"default"``."""
    views = {r.id: r.data for r in repo.facts("views")}
    if view_id == "default":
        return next((v for v in views.values() if v.get("default")), {})
    if view_id is None:
        return {}
    if view_id not in views:
        known = ", ".join(sorted(views)) or "none"
        raise CrmError(f"no saved view '{view_id}'", hint=f"views in views/: {known}")
    return views[view_id]


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class _Valued(Protocol):
    def value(self, column: str) -> Any: ...


def sort_rows(selected: Sequence[R], keys: Sequence[str]) -> list[R]:
    """Rows sorted by ``keys``, the first the main one; ``-amount`` or ``amount:desc``
    sorts descending (a leading "-" on a command line needs ``--sort=-amount``)."""
    out = list(selected)
    for key in reversed(keys):
        descending = key.startswith("-") or key.endswith(":desc")
        name = key.lstrip("-+").removesuffix(":desc").removesuffix(":asc")
        # rows without the value go last whichever way the column is sorted
        present = [r for r in out if r.value(name) is not None]
        missing = [r for r in out if r.value(name) is None]
        present.sort(key=lambda r: _sort_key(r.value(name)), reverse=descending)
        out = present + missing
    return out


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    """Numbers before text, missing values last, whatever the column mixes."""
    if value is None:
        return (2, Decimal(0), "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), "")
    return (1, Decimal(0), str(value).casefold())
