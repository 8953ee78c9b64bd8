"""The catalogs of a revision (catalogs/*.yaml: stages, kinds, products, people...),
built one way for every reader: the checker, ``crm lint``'s steps, an operation's
workspace, the record store and the history replay.

A catalog is its entries by id: the mappings whose ``id`` is a string (anything else
is the schema's to report, and no reference may resolve to it). Only
``catalogs/<name>.yaml`` is read (a ``.yml`` twin is reported by the checker, never
read), and a file that cannot be read or parsed, or is not a list, is no catalog: a
rule that needs it stays quiet and the file's own diagnostic says why. When the whole
``catalogs/`` folder of a revision was read, the catalogs a repository may lack
(``OPTIONAL_CATALOGS``) read as empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from crmfiles.records import OPTIONAL_CATALOGS, classify
from crmfiles.records.sources import RawFile, Source
from crmfiles.records.yamlio import ParseError, parse

Catalog = dict[str, dict[str, Any]]
Catalogs = dict[str, Catalog]


def catalog_entries(data: Any) -> Catalog | None:
    """A parsed catalog file's entries by id; None when it is not a catalog (a list)."""
    if not isinstance(data, list):
        return None
    return {e["id"]: e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)}


def parse_bytes(content: bytes | None) -> Any:
    """A catalog file's bytes parsed (a byte-order mark allowed); None when they
    cannot be read, decoded or parsed."""
    if content is None:
        return None
    try:
        return parse(content.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ParseError):
        return None


def build_catalogs(parsed: Iterable[tuple[str, Any]], *, whole: bool = True) -> Catalogs:
    """The catalogs of ``(path, parsed data)`` pairs (other paths are skipped).

    ``whole``: the pairs are every file of the revision's ``catalogs/`` folder, so an
    absent optional catalog is empty; False for a part of it (the catalogs a commit
    changed, laid over its parent's)."""
    out: Catalogs = {}
    present: set[str] = set()
    for path, data in parsed:
        place = classify(path)
        if place is None or place.kind != "catalog" or not place.ext_ok:
            continue
        present.add(place.name)
        found = catalog_entries(data)
        if found is not None:
            out[place.name] = found
    if whole:
        for name in sorted(OPTIONAL_CATALOGS - present):
            out[name] = {}
    return out


def catalogs_of_files(
    files: Iterable[RawFile],
    *,
    whole: bool = True,
    unreadable: Callable[[RawFile], None] | None = None,
) -> Catalogs:
    """The catalogs of files as a source gives them; ``unreadable`` is told of each
    catalog file whose content was refused (a symlink, too large...)."""

    def pairs() -> Iterable[tuple[str, Any]]:
        for raw in files:
            if raw.content is None and unreadable is not None:
                place = classify(raw.path)
                if place is not None and place.kind == "catalog" and place.ext_ok:
                    unreadable(raw)
            yield raw.path, parse_bytes(raw.content)

    return build_catalogs(pairs(), whole=whole)


def read_catalogs(
    source: Source, *, unreadable: Callable[[RawFile], None] | None = None
) -> Catalogs:
    """Every catalog of a source's revision (work tree, index, commit, overlay)."""
    return catalogs_of_files(source.catalog_files(), unreadable=unreadable)
