"""Pipeline per person: the open opportunities each responsible person carries —
count, amount and weighted amount in the base currency — most weighted first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmfiles.money import Total
from crmfiles.records.store import Repository
from crmfiles.reports.common import money, money_note, new_total
from crmfiles.reports.deals import Deals
from crmfiles.reports.funnel import Bucket


@dataclass
class PersonPipeline:
    person: str  # id in catalogs/people.yaml; "" when nobody is responsible
    name: str
    open: Bucket


@dataclass
class Pipeline:
    kind: str | None
    people: list[PersonPipeline]
    total: Bucket

    def totals(self) -> list[Total]:
        buckets = [p.open for p in self.people] + [self.total]
        return [t for b in buckets for t in (b.amount, b.weighted)]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": "pipeline",
            "kind": self.kind,
            "people": [
                {
                    "person": p.person,
                    "name": p.name,
                    "count": p.open.count,
                    "amount": money(p.open.amount),
                    "weighted": money(p.open.weighted),
                }
                for p in self.people
            ],
            "total": {
                "count": self.total.count,
                "amount": money(self.total.amount),
                "weighted": money(self.total.weighted),
            },
            **money_note(self.totals()),
        }


def pipeline_per_person(repo: Repository, kind: str | None = None) -> Pipeline:
    names = {k: str(v.get("name") or k) for k, v in repo.catalog("people").items()}

    def bucket() -> Bucket:
        return Bucket(0, new_total(repo), new_total(repo))

    people: dict[str, PersonPipeline] = {}
    total = bucket()
    deals = Deals(repo)
    amounts, weights, currencies = deals.amount, deals.weighted, deals.currency
    for i, (is_open, kind_of, responsible) in enumerate(
        zip(deals.open, deals.column("kind"), deals.column("responsible"), strict=True)
    ):
        if not is_open or (kind is not None and kind_of != kind):
            continue
        person = str(responsible or "")
        entry = people.setdefault(
            person, PersonPipeline(person, names.get(person, person), bucket())
        )
        entry.open.add(amounts[i], weights[i], currencies[i])
        total.add(amounts[i], weights[i], currencies[i])

    def weight(p: PersonPipeline) -> tuple[Any, ...]:
        value = p.open.weighted.in_base
        return (value is None, -(value or 0), p.person)

    return Pipeline(kind, sorted(people.values(), key=weight), total)
