"""The facts the rules across records use, defined once: what a parsed record gives
them (:func:`rule_facts`), what the warm cache's snapshot keeps of those facts in its
columns (:class:`Kept`, written by :mod:`crmfiles.cachework`), and the facts made
back from the columns for a record the cache restored
(:class:`~crmfiles.rules.base.Context`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from crmfiles.records import FACT_KEYS, name_key

if TYPE_CHECKING:
    from crmfiles.cachesnapshot import CheckSnapshot

# the record a document links to: a quote's opportunity, an order's quote, an invoice's order
LINK_FIELDS = {"quotes": "opportunity", "orders": "quote", "invoices": "order"}


def rule_facts(data: Any) -> dict[str, Any] | None:
    """What the rules across records read of a record (``FACT_KEYS``, and how its name
    compares); None for what is not a record."""
    if not isinstance(data, dict):
        return None
    facts = {key: data[key] for key in FACT_KEYS if key in data}
    name = facts.get("name")
    if isinstance(name, str):  # how names compare: case and spacing do not count
        facts["name_key"] = name_key(name)
    return facts or None


class Kept(NamedTuple):
    """What the snapshot keeps of one record's facts: a row of its columns."""

    name_key: str  # an opportunity's ("": none)
    currency: str  # ("": none)
    link: str | None  # the record a document links to (LINK_FIELDS)
    roles: list[Any] | None  # a partner's
    partner_name: str | None  # a partner's name key


def kept(folder: str, facts: dict[str, Any] | None) -> Kept:
    """The row the snapshot keeps of a record of ``folder`` with these facts."""
    facts = facts or {}
    key = facts.get("name_key")
    money = facts.get("currency")
    field = LINK_FIELDS.get(folder)
    link = facts.get(field) if field else None
    roles = facts.get("roles") if folder == "partners" else None
    return Kept(
        key if folder == "opportunities" and isinstance(key, str) else "",
        money if isinstance(money, str) else "",
        link if isinstance(link, str) else None,
        roles if isinstance(roles, list) else None,
        key if folder == "partners" and isinstance(key, str) else None,
    )


def kept_in(snapshot: CheckSnapshot, path: str, where: int) -> Kept:
    """The row a snapshot keeps of the record at ``path`` (its row ``where``)."""
    return Kept(
        snapshot.name_key(where),
        snapshot.currency_at(where),
        snapshot.links.get(path),
        (snapshot.roles or {}).get(path),
        (snapshot.partner_names or {}).get(path),
    )


def facts_of(folder: str, row: Kept) -> dict[str, Any] | None:
    """The facts a kept row stands for: those the rules would read of the record."""
    facts: dict[str, Any] = {}
    if row.name_key:
        facts["name_key"] = row.name_key
    if row.currency:
        facts["currency"] = row.currency
    if row.partner_name is not None:
        facts["name_key"] = row.partner_name
    if row.roles is not None:
        facts["roles"] = row.roles
    if row.link is not None:
        facts[LINK_FIELDS.get(folder, "link")] = row.link
    return facts or None
