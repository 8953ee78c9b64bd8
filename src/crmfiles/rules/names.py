"""Names that must be unique, and catalog consistency."""

from __future__ import annotations

from collections.abc import Iterator

from crmfiles.diagnostics import Finding
from crmfiles.rules.base import Context, finding


def unique_names(ctx: Context) -> Iterator[Finding]:
    """Opportunity names are unique, case-insensitively; reported on every file after
    the first (in path order), at its name, naming the first."""
    first: dict[str, str] = {}
    for f in ctx.files:
        if f.place.kind != "record" or f.place.name != "opportunities":
            continue
        name = ctx.fact(f, "name")
        if not isinstance(name, str):
            continue
        key = " ".join(name.casefold().split())
        if key in first:
            yield finding(
                "duplicate-name",
                f,
                f"name '{name}' is already used by {first[key]}",
                ("name",),
                hint="opportunity names are unique (case-insensitive)",
            )
        else:
            first[key] = f.path


def catalogs_consistent(ctx: Context) -> Iterator[Finding]:
    for f in ctx.files:
        if f.place.kind != "catalog" or not isinstance(f.data, list):
            continue
        if f.place.name == "kinds":
            for index, kind in enumerate(f.data):
                if not isinstance(kind, dict):
                    continue
                stages = kind.get("stages")
                if kind.get("type") in ("standard", "custom") and not stages:
                    yield finding(
                        "catalog",
                        f,
                        f"kind '{kind.get('id')}' has no stages",
                        (index,),
                        hint="list its stages, or make it stageless",
                    )
                elif isinstance(stages, list) and len(set(map(str, stages))) != len(stages):
                    yield finding(
                        "catalog",
                        f,
                        f"kind '{kind.get('id')}' lists a stage twice",
                        (index, "stages"),
                    )
        elif f.place.name == "people":
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
