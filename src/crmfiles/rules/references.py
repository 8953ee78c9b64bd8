"""References between records, declared once in the schemas (``x-ref``), and ids."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.records import CATALOG_DIR, CATALOGS, CONFIG_FILE, OPTIONAL_CATALOGS, RECORD_FOLDERS
from crmfiles.rules.base import Context, finding, record_id
from crmfiles.rules.registry import Check

_NOUN = {
    **RECORD_FOLDERS,  # partners -> partner, ...
    "stages": "stage",
    "kinds": "kind",
    "loss-reasons": "loss reason",
    "channels": "channel",
    "campaigns": "campaign",
    "products": "product",
    "terms": "terms of sale",
    "tags": "tag",
    "people": "person",
    "currencies": "currency",
    "establishments": "establishment",
    "sectors": "sector",
    "families": "family",
    "sub-families": "sub-family",
}
_SUGGEST_LIMIT = 20_000  # fuzzy suggestions cost O(n) per miss; skip them on huge sets


def noun(target: str) -> str:
    return _NOUN.get(target, target)


def where(target: str) -> str:
    return f"{CATALOG_DIR}/{target}.yaml" if target not in RECORD_FOLDERS else f"{target}/"


def unknown_references(ctx: Context) -> Iterator[Finding]:
    known_ids: dict[str, Any] = {}
    # a base currency missing from a catalog that lists others is one [catalog]
    # finding there (names.catalogs_consistent), not one here per record that uses it
    currencies = ctx.catalogs.get("currencies")
    unlisted_base = (
        ctx.config.currency if currencies and ctx.config.currency not in currencies else None
    )
    files = [f for f in ctx.files if f.place.kind in ("catalog", "config")] + [
        f for f in ctx.scope() if f.place.kind == "record"
    ]
    for f in files:
        if f.fresh and f.data is None and not f.released:
            continue
        for pointer, target, ref in ctx.refs_of(f):
            if target not in known_ids:
                known_ids[target] = ctx.known(target)
            known = known_ids[target]
            if known is None or ref in known or (target == "currencies" and ref == unlisted_base):
                continue
            yield finding(
                "unknown-reference",
                f,
                f"unknown {noun(target)} {ref!r}",
                pointer,
                hint=_hint(ctx, target, ref),
            )


CONFIG_REFS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("me",), "people"),
    (("defaults", "kind"), "kinds"),
)


def config_references(ctx: Context) -> Iterator[Finding]:
    """crm.yaml's own references (``me``, ``defaults.kind``) name catalog entries that
    exist; read from the settings already parsed, located only when one is wrong."""
    for pointer, target in CONFIG_REFS:
        value: Any = ctx.config.raw
        for part in pointer:
            value = value.get(part) if isinstance(value, dict) else None
        known = ctx.catalogs.get(target)
        if not isinstance(value, str) or known is None or value in known:
            continue
        yield _config_finding(ctx, pointer, f"unknown {noun(target)} {value!r}", target, value)


def _config_finding(
    ctx: Context, pointer: tuple[str, ...], message: str, target: str, ref: str
) -> Finding:
    from crmfiles.records import CONFIG_FILE
    from crmfiles.records.yamlio import compose
    from crmfiles.records.yamlspans import locate

    line = column = 1
    end_line = end_column = None
    try:
        text = ctx.source.read_config().decode("utf-8").removeprefix("\ufeff")
        span = locate(compose(text), pointer)
        line, column, end_line, end_column = span.line, span.column, span.end_line, span.end_column
    except Exception:  # the settings parsed once already; a place is a nicety
        pass
    return Finding(
        "unknown-reference",
        CONFIG_FILE,
        message,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        hint=_hint(ctx, target, ref),
    )


def _hint(ctx: Context, target: str, ref: str) -> str:
    known = ctx.known(target) or {}
    if len(known) <= _SUGGEST_LIMIT:
        close = difflib.get_close_matches(ref, list(known), n=1, cutoff=0.75)
        if close:
            return f"did you mean '{close[0]}'?"
    for other in ("partners", "contacts", "people", "opportunities", "leads", "campaigns"):
        if other != target and ref in (ctx.known(other) or {}):
            return f"{ref!r} is a {noun(other)}, not a {noun(target)}"
    return f"no {noun(target)} with that id in {where(target)}"


def duplicate_ids(ctx: Context) -> Iterator[Finding]:
    """The same id twice in one record folder (possible with by-month sub-folders) or
    in one catalog."""
    yield from _duplicate_record_ids(ctx)
    for f in [f for f in ctx.files if f.place.kind == "catalog" and isinstance(f.data, list)]:
        seen: dict[str, int] = {}
        for index, entry in enumerate(f.data):
            entry_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(entry_id, str):
                continue
            if entry_id in seen:
                yield finding(
                    "duplicate-id",
                    f,
                    f"id '{entry_id}' is already used by entry {seen[entry_id] + 1}",
                    (index, "id"),
                    hint="catalog ids are unique within the file",
                )
            else:
                seen[entry_id] = index


def _duplicate_record_ids(ctx: Context) -> Iterator[Finding]:
    snapshot = ctx.snapshot
    if snapshot is not None and snapshot.unique_ids and ctx.added is not None:
        # the cached run's ids were unique: only a record added since can share one
        asked = sorted({(p.partition("/")[0], record_id(p)) for p in ctx.added})
        for folder, rid in asked:
            if folder in RECORD_FOLDERS:
                yield from _duplicates(ctx, ctx.ids_of(folder).paths_of(rid))
        return
    for folder in RECORD_FOLDERS:
        paths = ctx.folder_paths(folder)
        ids = ctx.ids_of(folder)
        if len(ids) == len(paths):
            continue  # the common case, decided without looking at a path
        for path in paths:
            first = ids.get(record_id(path))
            if first is not None and first != path:
                yield from _duplicates(ctx, [first, path])


def _duplicates(ctx: Context, paths: list[str]) -> Iterator[Finding]:
    """A finding at each of ``paths`` (the records holding one id, in path order) after
    the first."""
    for path in paths[1:]:
        f = ctx.file(path)
        if f is not None:
            yield finding(
                "duplicate-id",
                f,
                f"id '{record_id(path)}' is already used by {paths[0]}",
                ("id",),
                hint="ids are unique per record type, whatever the folder",
                related=(paths[0],),
            )


def competitor_roles(ctx: Context) -> Iterator[Finding]:
    roles: dict[str, Any] = {}
    for f in ctx.scope():
        if f.place.kind != "record" or f.place.name != "opportunities":
            continue
        if f.fresh and f.data is None and not f.released:
            continue
        for pointer, target, ref in ctx.refs_of(f):
            if target != "partners" or pointer[0] != "competitors":
                continue
            if ref not in roles:
                partner_path = ctx.ids_of("partners").get(ref)
                partner = ctx.file(partner_path) if partner_path else None
                roles[ref] = ctx.value(partner, "roles") if partner is not None else None
            partner_roles = roles[ref]
            if isinstance(partner_roles, list) and "competitor" not in partner_roles:
                yield finding(
                    "competitor-role",
                    f,
                    f"competitor '{ref}' does not have the competitor role",
                    pointer,
                    hint=f"add competitor to the roles in partners/{ref}.yaml",
                )


def missing_catalogs(ctx: Context) -> Iterator[Finding]:
    """A catalog file that does not exist is one diagnostic, not one per reference."""
    wanted: dict[str, int] = defaultdict(int)
    missing = {
        name for name in CATALOGS if name not in ctx.catalog_paths and name not in OPTIONAL_CATALOGS
    }
    if not missing:
        return
    for f in ctx.all_files():
        if f.place.kind == "record" and not (f.fresh and f.data is None and not f.released):
            for _, target, _ in ctx.refs_of(f):
                if target in missing:
                    wanted[target] += 1
    for name, count in sorted(wanted.items()):
        yield Finding(
            "unknown-reference",
            CONFIG_FILE,
            f"{CATALOG_DIR}/{name}.yaml is missing, and {count} reference"
            f"{'s' if count != 1 else ''} need it",
            line=1,
            column=1,
            hint=f"create {CATALOG_DIR}/{name}.yaml (`crm init` writes a default)",
        )


CHECKS = (
    Check(competitor_roles, ("competitor-role",), "record", ("opportunities",), frozenset({"ids"})),
    Check(unknown_references, ("unknown-reference",), "record", (), frozenset({"ids"})),
    Check(duplicate_ids, ("duplicate-id",), "collective"),
    Check(config_references, ("unknown-reference",), "collective"),
    Check(missing_catalogs, ("unknown-reference",), "collective"),
)
