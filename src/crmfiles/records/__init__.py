"""Where records live in a CRM repository, and what a loaded file is."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# folder -> record type (its schema name)
RECORD_FOLDERS: dict[str, str] = {
    "partners": "partner",
    "contacts": "contact",
    "leads": "lead",
    "opportunities": "opportunity",
    "interactions": "interaction",
    "tasks": "task",
    "quotes": "quote",
    "orders": "order",
    "invoices": "invoice",
    "views": "view",
}
CATALOGS: tuple[str, ...] = (
    "stages",
    "kinds",
    "loss-reasons",
    "channels",
    "campaigns",
    "products",
    "terms",
    "tags",
    "people",
    "currencies",
    "establishments",
    "sectors",
    "families",
    "sub-families",
)
# catalogs a repository may not have (they came later): absent, each reads as empty,
# so a reference to one is an unknown-reference on its own record, like any other
OPTIONAL_CATALOGS = frozenset({"establishments", "sectors", "families", "sub-families"})
CONFIG_FILE = "crm.yaml"
CATALOG_DIR = "catalogs"
# folders the tool writes by month unless crm.yaml says otherwise
BY_MONTH_DEFAULT = frozenset({"opportunities", "interactions", "tasks", "quotes", "leads"})

# the fields rules across records read: names, partner roles, currencies, lead sources
# and the links quote -> opportunity, order -> quote, invoice -> order
FACT_KEYS = ("name", "roles", "currency", "channel", "source", "opportunity", "quote", "order")

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
MAX_FILE_BYTES = 1_000_000


def iso_date(value: Any) -> dt.date | None:
    """A record's date field (an ISO string, times allowed) as a date; None when it is
    not one (an impossible date like 2025-02-30 included: the schema reports it)."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def name_key(name: str) -> str:
    """How names compare for uniqueness (opportunities, partners): case and spacing do
    not count (runs of whitespace are one space, none at either end)."""
    return " ".join(name.casefold().split())


def loose_name_key(name: str) -> str:
    """:func:`name_key` with accents folded too (``Müller`` -> ``muller``): how close
    two names are for a warning, not a rule."""
    decomposed = unicodedata.normalize("NFKD", name_key(name))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value)) and ".." not in value


class Place(NamedTuple):
    """What a path in the repository holds (a tuple: made once per file per run)."""

    kind: str  # "config" | "catalog" | "record"
    name: str  # catalog name or record folder
    id: str  # record id (file stem); catalog name for catalogs
    ext_ok: bool = True


def classify(path: str) -> Place | None:
    """The place of a repository-relative POSIX path, or None for files we ignore."""
    if path == CONFIG_FILE:
        return Place("config", "crm", "crm")
    head, _, rest = path.partition("/")
    if not rest:
        return None
    stem, dot, ext = rest.rpartition("/")[2].rpartition(".")
    if not dot or ext not in ("yaml", "yml"):
        return None
    if head == CATALOG_DIR and "/" not in rest:
        return Place("catalog", stem, stem, ext == "yaml") if stem in CATALOGS else None
    if head in RECORD_FOLDERS:
        return Place("record", head, stem, ext == "yaml")
    return None


@dataclass(slots=True)
class LoadedFile:
    """One file of a revision, parsed (or not) on the fast path."""

    path: str
    place: Place
    blob: str | None
    text: str | None = None  # decoded text; None when it could not be read
    data: Any = None
    ok: bool = False  # parsed into the right shape and valid against its schema
    findings: list[Any] = field(default_factory=list)
    # what rules across records need, kept in the cache so an unchanged file is not
    # parsed again: references (None until computed) and a few fields (FACT_KEYS)
    refs: list[Any] | None = None
    facts: dict[str, Any] | None = None
    fresh: bool = True  # parsed in this run (False: restored from the cache)
    released: bool = False  # data and text dropped after the checks (read again on demand)


@dataclass(slots=True)
class Record:
    """One record of a revision: the whole of it (``whole``), or only its facts
    (:mod:`crmfiles.records.facts`), which is what lists and reports read."""

    folder: str
    id: str
    path: str
    data: dict[str, Any]
    text: str = field(repr=False, default="")
    whole: bool = True
