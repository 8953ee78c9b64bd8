"""Names that must be unique, and catalog consistency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from crmfiles.diagnostics import Finding
from crmfiles.records import CATALOG_DIR, CATALOGS
from crmfiles.rules.base import Context, finding
from crmfiles.rules.registry import Check


def unique_names(ctx: Context) -> Iterator[Finding]:
    """Opportunity names are unique, case-insensitively; reported on every file after
    the first (in path order), at its name, naming the first."""
    objects = ctx.files_by_path
    if _still_unique(ctx):
        return
    fresh = {
        p: (f.facts or {}).get("name_key")
        for p, f in objects.items()
        if f.place.kind == "record" and f.place.name == "opportunities"
    }
    counts = Counter(k for k in fresh.values() if k)
    snapshot = ctx.snapshot
    if snapshot is not None:
        excluded = ctx.restored.excluded
        counts.update(
            key
            for path, key in zip(snapshot.paths, snapshot.name_keys, strict=True)
            if key and path not in fresh and path not in excluded
        )
    shared = {key for key, count in counts.items() if count > 1}
    if not shared:
        return  # the common case: decided from the keys alone, no path looked at
    first: dict[str, str] = {}
    for path in ctx.folder_paths("opportunities"):
        key = fresh[path] if path in fresh else ctx.cached_name_key(path)
        if key is None or key not in shared:
            continue
        if key not in first:
            first[key] = path
            continue
        f = objects.get(path) or ctx.file(path)
        if f is not None:
            yield finding(
                "duplicate-name",
                f,
                f"name '{ctx.value(f, 'name')}' is already used by {first[key]}",
                ("name",),
                hint="opportunity names are unique (case-insensitive)",
                related=(first[key],),
            )


def unique_partner_names(ctx: Context) -> Iterator[Finding]:
    """Partner names are unique like opportunity names; partners are few, so their keys
    are counted outright (from the cache's partner dict for those not read)."""
    objects = ctx.files_by_path
    fresh = {
        p: (f.facts or {}).get("name_key")
        for p, f in objects.items()
        if f.place.kind == "record" and f.place.name == "partners"
    }
    keys = dict(fresh)
    snapshot = ctx.snapshot
    if snapshot is not None and snapshot.partner_names:
        excluded = ctx.restored.excluded
        for path, key in snapshot.partner_names.items():
            if path not in fresh and path not in excluded:
                keys[path] = key
    counts = Counter(k for k in keys.values() if k)
    if not any(count > 1 for count in counts.values()):
        return
    first: dict[str, str] = {}
    for path in ctx.folder_paths("partners"):
        key = keys.get(path)
        if not key or counts[key] < 2:
            continue
        if key not in first:
            first[key] = path
            continue
        f = objects.get(path) or ctx.file(path)
        if f is not None:
            yield finding(
                "duplicate-name",
                f,
                f"name '{ctx.value(f, 'name')}' is already used by {first[key]}",
                ("name",),
                hint="partner names are unique (case-insensitive)",
                related=(first[key],),
            )


def _still_unique(ctx: Context) -> bool:
    """Names were unique in the snapshot and no opportunity read in this run takes a
    name another has: decided without counting 100,000 names."""
    snapshot = ctx.snapshot
    if snapshot is None or not snapshot.unique_names:
        return False
    fresh = [
        f
        for f in ctx.files
        if f.place.kind == "record" and f.place.name == "opportunities" and f.fresh
    ]
    keys = [(f.facts or {}).get("name_key") for f in fresh]
    named = [k for k in keys if k]
    if len(set(named)) != len(named):
        return False
    for f, key in zip(fresh, keys, strict=True):
        if not key:
            continue
        where = snapshot.position(f.path)
        own = 1 if where is not None and snapshot.name_key_is(where, key) else 0
        if snapshot.name_taken(key) - own > 0:
            return False
    return True


def catalogs_consistent(ctx: Context) -> Iterator[Finding]:
    for f in [f for f in ctx.files if f.place.kind == "catalog"]:
        if f.place.kind != "catalog" or not isinstance(f.data, list):
            continue
        # a kind without stages or listing one twice is the kinds schema's to report
        if f.place.name == "people":
            owners: dict[str, str] = {}
            for index, person in enumerate(f.data):
                emails = person.get("emails") if isinstance(person, dict) else None
                for j, email in enumerate(emails if isinstance(emails, list) else []):
                    key = str(email).casefold()
                    if key in owners:
                        yield finding(
                            "catalog",
                            f,
                            f"e-mail '{email}' already belongs to '{owners[key]}'",
                            (index, "emails", j),
                            hint="one e-mail maps to one person (commit authors "
                            "are matched by e-mail)",
                        )
                    else:
                        owners[key] = str(person.get("id"))
        elif f.place.name == "currencies" and ctx.config.currency not in ctx.catalogs.get(
            "currencies", {ctx.config.currency: {}}
        ):
            yield finding(
                "catalog",
                f,
                f"the base currency {ctx.config.currency} of crm.yaml is not listed",
                (),
                hint=f"add {ctx.config.currency} with rate 1",
            )


def stray_catalogs(ctx: Context) -> Iterator[Finding]:
    """A file in catalogs/ that is no catalog crmfiles reads: a typo hides a catalog."""
    import difflib

    for path in ctx.stray_catalogs:
        stem = path.rpartition("/")[2].rpartition(".")[0]
        close = difflib.get_close_matches(stem, CATALOGS, n=1)
        yield Finding(
            "file-name",
            path,
            f"'{stem}' is not a catalog crmfiles reads, so this file is ignored",
            line=1,
            column=1,
            hint=f"did you mean {CATALOG_DIR}/{close[0]}.yaml?"
            if close
            else f"the catalogs are: {', '.join(CATALOGS)}",
        )


CHECKS = (
    Check(unique_names, ("duplicate-name",), "collective"),
    Check(unique_partner_names, ("duplicate-name",), "collective"),
    Check(catalogs_consistent, ("catalog",), "collective"),
    Check(stray_catalogs, ("file-name",), "collective"),
)
