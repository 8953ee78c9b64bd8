"""The context of an opportunity's printed summary: the deal, its customer, its lines
and totals, its quotes, open tasks and latest interactions (plain data, like every
context of :mod:`crmfiles.printing.context`)."""

from __future__ import annotations

from typing import Any

from crmfiles.documents.totals import document_totals
from crmfiles.money import amount_of, weighted
from crmfiles.printing.context import _text, contacts, lines, partner, terms, totals
from crmfiles.records.store import Record, Repository
from crmfiles.reports.record import open_first

LATEST_INTERACTIONS = 10


def _name(catalog: dict[str, dict[str, Any]], key: Any) -> str | None:
    if not isinstance(key, str):
        return None
    return _text((catalog.get(key) or {}).get("name")) or key


def opportunity_summary(repo: Repository, record: Record) -> dict[str, Any]:
    data = record.data
    products = repo.catalog("products")
    people = repo.catalog("people")
    amount = amount_of(data, products)
    insight = data.get("insight") if isinstance(data.get("insight"), dict) else {}
    assert isinstance(insight, dict)
    team = data.get("team") if isinstance(data.get("team"), list) else []
    assert isinstance(team, list)
    currency = data.get("currency") or repo.config.currency
    opportunity = {
        "id": record.id,
        "name": _text(data.get("name")) or record.id,
        "kind": _name(repo.catalog("kinds"), data.get("kind")),
        "stage": _name(repo.catalog("stages"), data.get("stage")),
        "status": _text(data.get("status")),
        "closed": data.get("closed") is True,
        "probability": data.get("probability"),
        "amount": amount,
        "weighted": weighted(amount, data.get("probability")),
        "currency": currency,
        "opened": _text(data.get("opened")),
        "expected_close": _text(data.get("expected_close")),
        "responsible": _name(people, data.get("responsible")),
        "team": [_name(people, p) for p in team],
        "loss_reason": _name(repo.catalog("loss-reasons"), data.get("loss_reason")),
        "next_milestone": _text(data.get("next_milestone")),
        "comment": _text(data.get("comment")),
        "insight": {str(k): str(v) for k, v in insight.items() if v},
    }
    quotes = [r for r in repo.records("quotes") if r.data.get("opportunity") == record.id]
    tasks = [
        r
        for r in repo.records("tasks")
        if isinstance(r.data.get("subject"), dict)
        and r.data["subject"].get("type") == "opportunity"
        and r.data["subject"].get("id") == record.id
    ]
    talks = [r for r in repo.records("interactions") if r.data.get("opportunity") == record.id]
    talks.sort(key=lambda r: str(r.data.get("at") or ""), reverse=True)
    return {
        "document": {
            "type": "opportunity",
            "title": "Opportunity",
            "id": record.id,
            "currency": currency,
        },
        "opportunity": opportunity,
        "partner": partner(repo, data.get("partner")),
        "contacts": contacts(repo, data.get("contacts")),
        "lines": lines(data, products),
        "totals": totals(document_totals(data, products)),
        "terms": terms(repo, data.get("terms")),
        "quotes": [_quote(q, products) for q in sorted(quotes, key=lambda q: q.id)],
        "tasks": [
            {
                "id": t.id,
                "title": _text(t.data.get("title")) or t.id,
                "due": _text(t.data.get("due")),
                "assignee": _name(people, t.data.get("assignee")),
            }
            for t in open_first(tasks)
        ],
        "interactions": [
            {
                "id": i.id,
                "at": str(i.data.get("at") or ""),
                "type": _text(i.data.get("type")),
                "subject": _text(i.data.get("subject")),
            }
            for i in talks[:LATEST_INTERACTIONS]
        ],
    }


def _quote(quote: Record, products: dict[str, Any]) -> dict[str, Any]:
    found = document_totals(quote.data, products)
    return {
        "id": quote.id,
        "revision": quote.data.get("revision"),
        "status": _text(quote.data.get("status")),
        "date": _text(quote.data.get("date")),
        "valid_until": _text(quote.data.get("valid_until")),
        "currency": quote.data.get("currency"),
        "gross": found.gross if found else None,
    }
