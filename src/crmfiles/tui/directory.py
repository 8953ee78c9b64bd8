"""What the partners and interactions screens list, read off a :class:`TuiSnapshot`.

Textual-free, as :mod:`crmfiles.tui.data`: each screen reads its rows here, in one
place, so the rows can later come from another source without touching the screens.
A partner's deals are the opportunities whose ``partner`` is it; open means
``in_progress``; amounts are summed exactly, per currency, and shown in the base
currency where ``catalogs/currencies.yaml`` has the rates (as the list's totals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from crmfiles.folding import fold
from crmfiles.money import Total, fmt
from crmfiles.records.store import Record
from crmfiles.tui.columns import sort_key
from crmfiles.tui.data import TuiSnapshot
from crmfiles.tui.rows import ListRow, listing


class Searchable(Protocol):
    @property
    def hay(self) -> str: ...


T = TypeVar("T", bound=Searchable)


@dataclass
class PartnerRow:
    """A partner with what it is worth: its open deals and what it has bought."""

    id: str
    record: Record
    open: int
    open_amount: Total
    won: int
    won_amount: Total
    hay: str

    @property
    def data(self) -> dict[str, Any]:
        return self.record.data


@dataclass
class InteractionRow:
    id: str
    record: Record
    at: str
    hay: str

    @property
    def data(self) -> dict[str, Any]:
        return self.record.data


def money(total: Total) -> str:
    """A total in the base currency for a column; ``?`` when a rate is missing, blank
    when nothing had an amount."""
    if not total.by_currency:
        return ""
    value = total.in_base
    return "?" if value is None else fmt(value)


def partner_rows(snapshot: TuiSnapshot) -> list[PartnerRow]:
    """Every partner, the ones with the most open business first, then by name."""
    totals: dict[str, list[Any]] = {}
    for lr in snapshot.rows.values():
        partner = lr.facts.get("partner")
        status = lr.facts.get("status")
        if not partner or status not in ("in_progress", "won"):
            continue
        entry = totals.setdefault(str(partner), [0, _total(snapshot), 0, _total(snapshot)])
        at = 0 if status == "in_progress" else 2
        entry[at] += 1
        entry[at + 1].add(lr.row.amount, lr.row.currency)
    rows = []
    for pid, record in snapshot.records["partners"].items():
        data = record.data
        entry = totals.get(pid) or [0, _total(snapshot), 0, _total(snapshot)]
        words = [data.get("name"), pid, data.get("legal_name"), data.get("country")]
        words += listing(data.get("roles")) + listing(data.get("tags"))
        hay = fold(" ".join(str(w) for w in words if w))
        rows.append(PartnerRow(pid, record, entry[0], entry[1], entry[2], entry[3], hay))
    rows.sort(
        key=lambda r: (-(r.open_amount.in_base or 0), -r.open, str(r.data.get("name") or r.id))
    )
    return rows


def deals_of(snapshot: TuiSnapshot, partner: str) -> list[ListRow]:
    """The partner's opportunities: open ones first (soonest to close first), then
    the closed ones, the most recently closed first."""
    deals = [lr for lr in snapshot.rows.values() if lr.facts.get("partner") == partner]
    opened = [lr for lr in deals if lr.facts.get("status") == "in_progress"]
    opened.sort(key=lambda lr: sort_key(lr.facts.get("expected_close")))
    done = [lr for lr in deals if lr.facts.get("status") != "in_progress"]
    done.sort(key=lambda lr: str(lr.facts.get("closed_on") or ""), reverse=True)
    return opened + done


def contacts_of(snapshot: TuiSnapshot, partner: str) -> list[Record]:
    contacts = [
        c for c in snapshot.records["contacts"].values() if c.data.get("partner") == partner
    ]
    contacts.sort(key=lambda c: fold(str(c.data.get("name") or c.id)))
    return contacts


def interaction_rows(snapshot: TuiSnapshot) -> list[InteractionRow]:
    """Every interaction, newest first; searchable by what the list shows of it."""
    rows = []
    for iid, record in snapshot.records["interactions"].items():
        data = record.data
        words = [
            data.get("subject"),
            data.get("type"),
            iid,
            snapshot.name("partners", data.get("partner")),
            snapshot.name("opportunities", data.get("opportunity")),
            snapshot.name("people", data.get("responsible")),
            data.get("summary"),
        ]
        hay = fold(" ".join(str(w) for w in words if w))
        rows.append(InteractionRow(iid, record, str(data.get("at") or ""), hay))
    rows.sort(key=lambda r: (r.at, r.id), reverse=True)
    return rows


def searched(rows: Sequence[T], text: str) -> list[T]:
    """The rows holding every word of ``text``, case and accents ignored."""
    words = fold(text).split()
    return [r for r in rows if all(w in r.hay for w in words)] if words else list(rows)


def choices(records: Iterable[Record], label: Any = None) -> list[tuple[str, str]]:
    """(label, id) pairs for a picker, sorted as people sort names."""
    pairs = [(label(r) if label else str(r.data.get("name") or r.id), r.id) for r in records]
    return sorted(pairs, key=lambda p: fold(p[0]))


def _total(snapshot: TuiSnapshot) -> Total:
    return Total(snapshot.currency, snapshot.rates)
