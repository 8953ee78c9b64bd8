"""The JSON Schemas, the example repository and the `crm init` templates.

- every schema is a valid draft 2020-12 schema, every ``$ref`` resolves, every
  property is described and every ``x-ref`` annotation names a known target;
- every file of ``example-repo/`` and of the init templates passes its schema (with
  format checking on);
- a plain-Python self-check holds the example repository to the consistency rules the
  engine enforces (references, stages of the kind, status/probability/closed, names,
  ids, layout, quotes, orders, invoices), so it stays consistent on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schema"
EXAMPLE = ROOT / "example-repo"
TEMPLATE = ROOT / "src" / "crmfiles" / "templates" / "init"

RECORD_TYPES = {
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
CATALOGS = (
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
X_REF_TARGETS = {folder for folder in RECORD_TYPES if folder != "views"} | set(CATALOGS)
SCHEMA_NAMES = {"common", "crm", *CATALOGS, *RECORD_TYPES.values()}
# the field that dates a record, which its by-month folder follows
CREATED = {
    "opportunities": "opened",
    "interactions": "at",
    "tasks": "created",
    "quotes": "date",
    "leads": "created",
}
BY_MONTH_DEFAULT = set(CREATED)
IMPACT_TARGET = {
    "partner": "partners",
    "contact": "contacts",
    "person": "people",
    "campaign": "campaigns",
}
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
NON_RECORD_FILES = {".pre-commit-config.yaml"}


# ------------------------------------------------------------------ loading


class _Yaml12Loader(yaml.SafeLoader):
    """Safe loader without the timestamp resolver: dates stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _local_load(text: str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)  # a safe loader: no tag builds objects


def _reference_loader() -> Any:
    """The engine's reference loader when it is there, else the local one."""
    try:
        from crmfiles.records import yamlio
    except Exception:
        return _local_load
    return getattr(yamlio, "load_reference", None) or getattr(
        yamlio, "parse_reference", _local_load
    )


load_yaml = _reference_loader()


@cache
def load_file(path: Path) -> Any:
    return load_yaml(path.read_text(encoding="utf-8"))


@cache
def schemas() -> dict[str, dict[str, Any]]:
    return {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }


def uri(name: str) -> str:
    """A schema's place: its file, so its relative ``$ref``s name the files beside it."""
    return (SCHEMA_DIR / f"{name}.schema.json").as_uri()


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (uri(name), DRAFT202012.create_resource(schema)) for name, schema in schemas().items()
    )


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$id": uri(name), **schemas()[name]},
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_name_for(repo: Path, path: Path) -> str | None:
    """Which schema a file of a CRM repository is checked against."""
    rel = path.relative_to(repo)
    if rel.as_posix() == "crm.yaml":
        return "crm"
    if rel.parts[0] == "catalogs" and len(rel.parts) == 2:
        return rel.stem if rel.stem in CATALOGS else None
    return RECORD_TYPES.get(rel.parts[0])


def repo_files(repo: Path) -> list[Path]:
    return sorted(
        path
        for path in repo.rglob("*.yaml")
        if ".crm" not in path.relative_to(repo).parts and path.name not in NON_RECORD_FILES
    )


REPOS = {"example-repo": EXAMPLE, "init-template": TEMPLATE}
ALL_FILES = [
    pytest.param(repo, path, id=f"{name}/{path.relative_to(repo).as_posix()}")
    for name, repo in REPOS.items()
    for path in repo_files(repo)
]


# ------------------------------------------------------------------ schema walking


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sub-schema (mapping) of a schema document, with its JSON pointer."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key in ("const", "enum", "default", "examples", "x-ref"):
                continue
            yield from walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{pointer}/{index}")


def resolve(schema: dict[str, Any], resolver: Any) -> tuple[dict[str, Any], Any]:
    """Follow ``$ref`` chains; the resolved schema keeps the referring schema's siblings."""
    merged = dict(schema)
    while "$ref" in merged:
        resolved = resolver.lookup(merged.pop("$ref"))
        resolver = resolved.resolver
        merged = {**resolved.contents, **merged}
    return merged, resolver


def collect_refs(
    schema: dict[str, Any],
    instance: Any,
    resolver: Any,
    pointer: str = "",
    parent: Any = None,
) -> Iterator[tuple[str, str, str]]:
    """(pointer, target folder or catalog, id) for every x-ref'd value of an instance."""
    schema, resolver = resolve(schema, resolver)
    xref = schema.get("x-ref")
    if xref is not None and isinstance(instance, str):
        if isinstance(xref, str):
            yield pointer, xref, instance
        elif isinstance(parent, dict) and parent.get(xref["by"]) in xref["map"]:
            yield pointer, xref["map"][parent[xref["by"]]], instance
    if isinstance(instance, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in instance:
                yield from collect_refs(sub, instance[key], resolver, f"{pointer}/{key}", instance)
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            yield from collect_refs(schema["items"], item, resolver, f"{pointer}/{index}", instance)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            yield from collect_refs(branch, instance, resolver, pointer, parent)


# ------------------------------------------------------------------ the schemas


def test_schema_files_are_the_expected_set() -> None:
    assert set(schemas()) == SCHEMA_NAMES


@pytest.mark.parametrize("name", sorted(SCHEMA_NAMES))
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = schemas()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema, "an $id would make tools resolve $refs against it, online"
    assert schema.get("title") and schema.get("description")
    if name in CATALOGS:
        assert schema["type"] == "array", "a catalog file is a YAML sequence"
    elif name != "common":
        assert schema["type"] == "object"


@pytest.mark.parametrize("name", sorted(SCHEMA_NAMES))
def test_every_property_is_described(name: str) -> None:
    conditional = re.compile(r"/(if|then|else|not)(/|$)")  # constraints, not definitions
    missing = [
        f"{pointer}/properties/{key}"
        for pointer, sub in walk(schemas()[name])
        if isinstance(sub.get("properties"), dict) and not conditional.search(pointer)
        for key, value in sub["properties"].items()
        if not value.get("description")
    ]
    assert not missing, f"properties without a description: {missing}"


@pytest.mark.parametrize("name", sorted(SCHEMA_NAMES))
def test_every_ref_resolves(name: str) -> None:
    schema = schemas()[name]
    resolver = registry().resolver(base_uri=uri(name))
    refs = [sub["$ref"] for _, sub in walk(schema) if isinstance(sub.get("$ref"), str)]
    for ref in refs:
        assert re.fullmatch(r"([a-z-]+\.schema\.json)?#/\$defs/[a-z-]+", ref), (
            f"{ref}: a $ref is a file of the schema folder and a pointer into it"
        )
        resolved = resolver.lookup(ref)
        assert isinstance(resolved.contents, dict), ref


@pytest.mark.parametrize("name", sorted(SCHEMA_NAMES))
def test_every_x_ref_names_a_known_target(name: str) -> None:
    schema = schemas()[name]
    resolver = registry().resolver(base_uri=uri(name))
    for pointer, sub in walk(schema):
        if "x-ref" not in sub:
            continue
        xref = sub["x-ref"]
        resolved, _ = resolve(sub, resolver)
        assert resolved.get("type") == "string", f"{pointer}: x-ref on a non-string schema"
        if isinstance(xref, str):
            assert xref in X_REF_TARGETS, f"{pointer}: unknown x-ref target {xref!r}"
            continue
        assert set(xref) == {"by", "map"}, f"{pointer}: polymorphic x-ref is {{by, map}}"
        assert set(xref["map"].values()) <= X_REF_TARGETS, pointer
        # the discriminating sibling property is an enum of exactly the map's keys
        owner = pointer.rsplit("/properties/", 1)[0]
        owner_schema = schema
        for part in owner.split("/")[1:]:
            owner_schema = owner_schema[int(part) if part.isdigit() else part]
        discriminator = owner_schema["properties"][xref["by"]]
        # every kind of record the discriminator names has its folder; a value with no
        # record behind it (an opportunity's origin type 'import') forbids the id
        assert set(xref["map"]) <= set(discriminator["enum"]), pointer
        for extra in set(discriminator["enum"]) - set(xref["map"]):
            assert owner_schema["if"]["properties"][xref["by"]] == {"const": extra}, pointer
            assert owner_schema["then"] == {"not": {"required": [pointer.rsplit("/", 1)[1]]}}


def test_records_and_entries_reject_unknown_fields() -> None:
    for name in RECORD_TYPES.values():
        schema = schemas()[name]
        assert schema["additionalProperties"] is False, name
        assert "^x-" in schema["patternProperties"], name
        assert "custom" in schema["properties"], name
    for name in CATALOGS:
        (entry,) = schemas()[name]["$defs"].values()
        assert entry["additionalProperties"] is False, name
        assert "^x-" in entry["patternProperties"], name


def test_schemas_catch_typical_mistakes() -> None:
    opportunity = {
        "id": "acme-forklifts",
        "name": "ACME forklifts",
        "kind": "standard-sale",
        "status": "in_progress",
        "partner": "acme",
        "responsible": "alice",
    }
    assert validator("opportunity").is_valid(opportunity)
    bad = [
        {"stauts": "won"},
        {"status": "open"},
        {"probability": 101},
        {"probability": 50.5},
        {"expected_close": "2025-02-30"},
        {"expected_close": "30.06.2026"},
        {"amount": -1},
        {"currency": "eur"},
        {"partner": "ACME"},
        {"id": "../etc/passwd"},
        {"lines": [{"quantity": 2}]},
        {"lines": [{"product": "e16", "quantity": 0}]},
        {"origin": {"type": "partner", "id": "acme"}},
    ]
    for change in bad:
        assert not validator("opportunity").is_valid({**opportunity, **change}), change
    assert validator("opportunity").is_valid({**opportunity, "x-legacy-id": 42, "custom": {}})
    interaction = {"id": "i1", "type": "call", "at": "2026-03-02"}
    assert validator("interaction").is_valid(interaction)
    assert validator("interaction").is_valid({**interaction, "at": "2026-03-02T09:30:00+01:00"})
    assert not validator("interaction").is_valid({**interaction, "at": "yesterday"})
    kind = {"id": "k", "name": "K", "type": "standard"}
    assert not validator("kinds").is_valid([kind]), "a staged kind needs stages"
    assert validator("kinds").is_valid([{**kind, "stages": ["a"]}])
    assert validator("kinds").is_valid([{**kind, "type": "stageless"}])
    assert not validator("kinds").is_valid([{**kind, "type": "stageless", "stages": ["a"]}])
    lead = {"id": "l1", "name": "L", "status": "disqualified"}
    assert not validator("lead").is_valid(lead), "a disqualified lead needs a reason"
    assert not validator("currencies").is_valid([{"id": "EUR", "name": "Euro", "rate": 0}])
    assert not validator("people").is_valid(
        [{"id": "me", "name": "Me", "emails": [], "roles": ["admin"]}]
    )


# ------------------------------------------------------------------ files against schemas


def test_repositories_have_files() -> None:
    for repo in REPOS.values():
        assert (repo / "crm.yaml").is_file(), repo
        assert repo_files(repo), repo


@pytest.mark.parametrize(("repo", "path"), ALL_FILES)
def test_file_matches_its_schema(repo: Path, path: Path) -> None:
    name = schema_name_for(repo, path)
    assert name is not None, f"{path}: no schema for this file"
    errors = sorted(validator(name).iter_errors(load_file(path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(("repo", "path"), ALL_FILES)
def test_file_points_editors_at_its_schema(repo: Path, path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path}: first line is not a yaml-language-server modeline"
    target = (path.parent / match.group(1)).resolve()
    expected = (repo / ".crm" / "schema" / f"{schema_name_for(repo, path)}.schema.json").resolve()
    assert target == expected
    if repo == EXAMPLE:
        assert target.is_file()


def test_example_repo_carries_the_schemas() -> None:
    copies = {path.name: path.read_text() for path in (EXAMPLE / ".crm" / "schema").glob("*")}
    originals = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.schema.json")}
    assert copies == originals, "copy schema/*.schema.json to example-repo/.crm/schema/"


# ------------------------------------------------------------------ consistency


class Repo:
    """A CRM repository read into memory, with a list of consistency problems."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.crm: dict[str, Any] = load_file(root / "crm.yaml")
        self.catalogs: dict[str, dict[str, dict[str, Any]]] = {}
        for name in CATALOGS:
            path = root / "catalogs" / f"{name}.yaml"
            entries = load_file(path) if path.is_file() else []
            self.catalogs[name] = {}
            for entry in entries or []:
                if entry["id"] in self.catalogs[name]:
                    self.problem(path, f"duplicate {name} id {entry['id']!r}")
                self.catalogs[name][entry["id"]] = entry
        self.records: dict[str, dict[str, dict[str, Any]]] = {f: {} for f in RECORD_TYPES}
        self.paths: dict[tuple[str, str], Path] = {}
        for path in repo_files(root):
            folder = path.relative_to(root).parts[0]
            if folder not in RECORD_TYPES:
                continue
            data = load_file(path)
            if data.get("id") != path.stem:
                self.problem(path, f"id {data.get('id')!r} differs from the file name")
            if path.stem in self.records[folder]:
                self.problem(path, f"duplicate id, also {self.paths[folder, path.stem]}")
            self.records[folder][path.stem] = data
            self.paths[folder, path.stem] = path

    def problem(self, where: Path | tuple[str, str], message: str) -> None:
        path = self.paths[where] if isinstance(where, tuple) else where
        self.problems.append(f"{path.relative_to(self.root)}: {message}")

    def exists(self, target: str, ident: str) -> bool:
        if target in self.catalogs:
            return ident in self.catalogs[target]
        return ident in self.records[target]

    def check_references(self) -> None:
        def check(path: Path, schema_name: str, data: Any) -> None:
            schema = schemas()[schema_name]
            resolver = registry().resolver(base_uri=uri(schema_name))
            for pointer, target, ident in collect_refs(schema, data, resolver):
                if not self.exists(target, ident):
                    self.problem(path, f"{pointer}: no {target} entry {ident!r}")

        check(self.root / "crm.yaml", "crm", self.crm)
        for name in CATALOGS:
            path = self.root / "catalogs" / f"{name}.yaml"
            check(path, name, list(self.catalogs[name].values()))
        for folder, records in self.records.items():
            for ident, data in records.items():
                check(self.paths[folder, ident], RECORD_TYPES[folder], data)

    def check_settings(self) -> None:
        base = self.catalogs["currencies"].get(self.crm["currency"])
        if base is None or base["rate"] != 1:
            self.problem(self.root / "crm.yaml", "base currency needs rate 1 in the catalog")
        emails = [e.lower() for p in self.catalogs["people"].values() for e in p["emails"]]
        if len(emails) != len(set(emails)):
            self.problem(self.root / "catalogs/people.yaml", "an e-mail maps to two people")
        defaults = [v for v in self.records["views"] if self.records["views"][v].get("default")]
        if len(defaults) > 1:
            self.problem(self.root / "views", f"several default views: {defaults}")
        for kind in self.catalogs["kinds"].values():
            if kind["type"] != "stageless" and len(set(kind["stages"])) < 1:
                self.problem(self.root / "catalogs/kinds.yaml", f"{kind['id']}: no stages")

    def check_layout(self) -> None:
        layout = self.crm.get("layout", {})
        for (folder, ident), path in self.paths.items():
            mode = layout if isinstance(layout, str) else layout.get(folder)
            if mode is None:
                mode = "by-month" if folder in BY_MONTH_DEFAULT else "flat"
            rel = path.relative_to(self.root / folder)
            if mode == "flat" or folder not in CREATED:
                expected = f"{ident}.yaml"
            else:
                created = str(self.records[folder][ident].get(CREATED[folder], ""))
                expected = f"{created[:4]}/{created[5:7]}/{ident}.yaml"
            if rel.as_posix() != expected:
                self.problem(path, f"expected at {folder}/{expected} ({mode} layout)")

    def check_money(self, key: tuple[str, str], data: dict[str, Any]) -> None:
        currency = data.get("currency")
        amounts = [data.get("amount")]
        for line in data.get("lines", []):
            amounts.append(line.get("unit_price"))
            if line.get("currency", currency) != currency:
                self.problem(key, f"line currency {line['currency']} is not {currency}")
        for amount in amounts:
            if amount is not None and Decimal(str(amount)).as_tuple().exponent < -2:
                self.problem(key, f"amount {amount} has more than two decimal places")
        if data.get("lines") and currency is None:
            self.problem(key, "lines without a currency")

    def source_fits_channel(self, key: tuple[str, str], data: dict[str, Any]) -> None:
        channel = self.catalogs["channels"].get(data.get("channel", ""))
        source = data.get("source")
        if channel is None:
            if source is not None:
                self.problem(key, "source without a channel")
            return
        target = IMPACT_TARGET.get(channel["impact"])
        if target is None and source is not None:
            self.problem(key, f"channel {channel['id']} takes no source")
        elif target is not None and (source is None or not self.exists(target, source)):
            self.problem(key, f"source {source!r} is not one of {target} ({channel['id']})")

    def check_opportunities(self) -> None:
        names: dict[str, str] = {}
        stages = self.catalogs["stages"]
        for ident, opp in sorted(self.records["opportunities"].items()):
            key = ("opportunities", ident)
            folded = opp["name"].casefold()
            if folded in names:
                self.problem(key, f"name {opp['name']!r} already used by {names[folded]}")
            names.setdefault(folded, ident)
            kind = self.catalogs["kinds"].get(opp["kind"], {})
            kind_stages = kind.get("stages", [])
            stage, status = opp.get("stage"), opp["status"]
            if kind.get("type") == "stageless":
                if stage is not None:
                    self.problem(key, "a stageless kind has no stage")
            elif stage not in kind_stages:
                self.problem(key, f"stage {stage!r} is not a stage of {opp['kind']}")
            if not kind.get("allowed", True) and not opp.get("closed"):
                self.problem(key, f"open opportunity of a kind not allowed: {opp['kind']}")
            probability = opp.get("probability")
            if status == "won" and probability != 100:
                self.problem(key, "won needs probability 100")
            if status == "lost" and probability != 0:
                self.problem(key, "lost needs probability 0")
            if status == "in_progress" and probability is not None and probability > 99:
                self.problem(key, "in progress needs probability 0-99")
            if status == "lost" and not opp.get("loss_reason"):
                self.problem(key, "lost needs a loss_reason")
            if status != "lost" and "loss_reason" in opp:
                self.problem(key, "loss_reason on an opportunity that is not lost")
            if opp.get("closed") and status == "in_progress":
                self.problem(key, "only a won or lost opportunity may be closed")
            if bool(opp.get("closed")) != ("closed_on" in opp):
                self.problem(key, "closed_on goes with closed: true")
            opened = opp.get("opened", "")
            for later in ("expected_close", "closed_on"):
                if later in opp and opp[later] < opened:
                    self.problem(key, f"{later} {opp[later]} is before opened {opened}")
            self.check_money(key, opp)
            if "amount" in opp and opp.get("lines"):
                products = self.catalogs["products"]
                total = sum((line_total(line, products) for line in opp["lines"]), Decimal(0))
                if total != Decimal(str(opp["amount"])):
                    self.problem(key, f"amount {opp['amount']} differs from the lines {total}")
            self.source_fits_channel(key, opp)
            if kind.get("type") == "standard" and status == "won" and stage != kind_stages[-1]:
                self.problem(key, "won before the last stage of a standard kind")
            if stage in kind_stages and status == "in_progress":
                self.check_stage_requirements(key, opp, kind, kind_stages.index(stage))
            if stage is not None and stage not in stages:
                self.problem(key, f"unknown stage {stage!r}")
            for contact in opp.get("contacts", []):
                owner = self.records["contacts"].get(contact, {}).get("partner")
                if owner not in (None, opp["partner"]):
                    self.problem(key, f"contact {contact} works for {owner}, not the partner")
            for competitor in opp.get("competitors", []):
                roles = self.records["partners"].get(competitor["partner"], {}).get("roles", [])
                if "competitor" not in roles:
                    self.problem(key, f"{competitor['partner']} is not a competitor")
                if opp.get("closed") and competitor.get("outcome") in (None, "unknown"):
                    self.problem(key, "competitor outcome missing on a closed opportunity")
            origin = opp.get("origin")
            if origin and origin["type"] == "lead":
                lead = self.records["leads"].get(origin["id"], {})
                if lead.get("qualified", {}).get("opportunity") != ident:
                    self.problem(key, f"origin lead {origin['id']} does not point back")

    def check_stage_requirements(
        self, key: tuple[str, str], opp: dict[str, Any], kind: dict[str, Any], index: int
    ) -> None:
        filled = {field for field, value in opp.items() if value not in (None, "", [], {})}
        if opp.get("lines"):
            filled.add("amount")
        # a standard kind went through every earlier stage; a custom one may have skipped
        entered = kind["stages"][: index + 1] if kind["type"] == "standard" else [opp["stage"]]
        for stage_id in entered:
            missing = set(self.catalogs["stages"][stage_id].get("requires", [])) - filled
            if missing:
                self.problem(key, f"stage {stage_id} requires {sorted(missing)}")
        if kind.get("record_primary_demand") and index > 0 and not opp.get("lines"):
            self.problem(key, "primary demand (lines) missing after the first stage")

    def check_leads(self) -> None:
        for ident, lead in self.records["leads"].items():
            key = ("leads", ident)
            self.source_fits_channel(key, lead)
            if lead["status"] == "qualified":
                qualified = lead["qualified"]
                if set(qualified) != {"partner", "contact", "opportunity"}:
                    self.problem(key, "a qualified lead points at partner, contact, opportunity")
                opp = self.records["opportunities"].get(qualified.get("opportunity"), {})
                if opp.get("origin") != {"type": "lead", "id": ident}:
                    self.problem(key, "the opportunity's origin is not this lead")
                if opp.get("partner") != qualified.get("partner"):
                    self.problem(key, "the opportunity's partner is not the qualified partner")
            elif "qualified" in lead:
                self.problem(key, "qualified set on a lead that is not qualified")
            if lead["status"] != "disqualified" and "disqualify_reason" in lead:
                self.problem(key, "disqualify_reason on a lead that is not disqualified")

    def check_quotes(self) -> None:
        quotes = self.records["quotes"]
        successors = {q["previous"]: i for i, q in quotes.items() if "previous" in q}
        for ident, quote in quotes.items():
            key = ("quotes", ident)
            opp = self.records["opportunities"].get(quote["opportunity"], {})
            self.check_money(key, quote)
            if quote.get("currency") != opp.get("currency"):
                self.problem(key, "quote currency differs from the opportunity's")
            if quote.get("valid_until", "9") < quote.get("date", ""):
                self.problem(key, "valid_until before date")
            if opp.get("closed") and quote["status"] in ("draft", "active"):
                self.problem(key, "a closed opportunity has no open quotes")
            if quote["status"] == "won" and opp.get("status") != "won":
                self.problem(key, "a won quote belongs to a won opportunity")
            if "previous" in quote:
                previous = quotes.get(quote["previous"], {})
                if previous.get("revision", 0) + 1 != quote["revision"]:
                    self.problem(key, "revision is not the previous revision + 1")
                if previous.get("status") != "revised":
                    self.problem(key, "the previous revision is not marked revised")
                if previous.get("opportunity") != quote["opportunity"]:
                    self.problem(key, "the previous revision quotes another opportunity")
            elif quote["revision"] != 1:
                self.problem(key, "a later revision needs previous")
            if quote["status"] == "revised" and ident not in successors:
                self.problem(key, "a revised quote has a next revision")

    def check_orders_and_invoices(self) -> None:
        for ident, order in self.records["orders"].items():
            key = ("orders", ident)
            quote = self.records["quotes"].get(order["quote"], {})
            opp = self.records["opportunities"].get(quote.get("opportunity", ""), {})
            self.check_money(key, order)
            if quote.get("status") != "won":
                self.problem(key, "an order comes from a won quote")
            if order.get("opportunity", quote.get("opportunity")) != quote.get("opportunity"):
                self.problem(key, "order and quote name different opportunities")
            if order.get("partner", opp.get("partner")) != opp.get("partner"):
                self.problem(key, "order partner differs from the opportunity's")
            if order.get("currency") != quote.get("currency"):
                self.problem(key, "order currency differs from the quote's")
        for ident, invoice in self.records["invoices"].items():
            key = ("invoices", ident)
            order = self.records["orders"].get(invoice["order"], {})
            self.check_money(key, invoice)
            if invoice.get("partner", order.get("partner")) != order.get("partner"):
                self.problem(key, "invoice partner differs from the order's")
            if invoice.get("currency") != order.get("currency"):
                self.problem(key, "invoice currency differs from the order's")
            if (invoice["status"] == "paid") != ("paid_on" in invoice):
                self.problem(key, "paid_on goes with status paid")
            if invoice.get("due", "9") < invoice.get("date", ""):
                self.problem(key, "due before date")

    def check_activities(self) -> None:
        for ident, task in self.records["tasks"].items():
            key = ("tasks", ident)
            if task.get("completed") and not ("completed_on" in task and task.get("result")):
                self.problem(key, "a completed task has completed_on and a result")
            if not task.get("completed") and ("completed_on" in task or "result" in task):
                self.problem(key, "completed_on/result on an open task")
            if task.get("due", "9") < task.get("created", ""):
                self.problem(key, "due before created")
        for ident, interaction in self.records["interactions"].items():
            key = ("interactions", ident)
            opp = self.records["opportunities"].get(interaction.get("opportunity", ""))
            if opp and interaction.get("partner", opp["partner"]) != opp["partner"]:
                self.problem(key, "partner differs from the opportunity's")
            for contact in interaction.get("contacts", []):
                owner = self.records["contacts"].get(contact, {}).get("partner")
                if owner not in (None, interaction.get("partner", owner)):
                    self.problem(key, f"contact {contact} works for {owner}")
            if opp and interaction["at"][:10] < opp.get("opened", ""):
                self.problem(key, "interaction before the opportunity was opened")

    def check_all(self) -> list[str]:
        self.check_references()
        self.check_settings()
        self.check_layout()
        self.check_opportunities()
        self.check_leads()
        self.check_quotes()
        self.check_orders_and_invoices()
        self.check_activities()
        return self.problems


def line_total(line: dict[str, Any], products: dict[str, dict[str, Any]]) -> Decimal:
    """quantity x unit_price x (1 - discount/100) x duration_months, in cents; a line
    without a unit price takes its product's list price (docs/records.md, Line)."""
    price = line.get("unit_price", products.get(line.get("product", ""), {}).get("price", 0))
    total = Decimal(str(line.get("quantity", 1))) * Decimal(str(price))
    total *= (100 - Decimal(str(line.get("discount", 0)))) / 100
    return (total * line.get("duration_months", 1)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("repo", REPOS.values(), ids=REPOS.keys())
def test_repository_is_consistent(repo: Path) -> None:
    problems = Repo(repo).check_all()
    assert not problems, "\n".join(problems)


def test_example_repo_covers_the_lifecycle() -> None:
    repo = Repo(EXAMPLE)
    opps = repo.records["opportunities"].values()
    kinds = repo.catalogs["kinds"]
    for kind in kinds.values():
        if kind["type"] == "stageless" or not kind.get("allowed", True):
            continue
        for stage in kind["stages"]:
            assert any(
                o["kind"] == kind["id"] and o.get("stage") == stage and o["status"] == "in_progress"
                for o in opps
            ), f"no open {kind['id']} opportunity in stage {stage}"
    assert {k["type"] for k in kinds.values()} == {"standard", "custom", "stageless"}
    statuses = {(o["status"], bool(o.get("closed"))) for o in opps}
    assert {("in_progress", False), ("won", True), ("lost", True), ("lost", False)} <= statuses
    assert any(not kinds[o["kind"]].get("allowed", True) for o in opps)
    minimum = {
        "opportunities": 45,
        "partners": 20,
        "contacts": 30,
        "leads": 8,
        "interactions": 20,
        "tasks": 20,
        "quotes": 4,
        "orders": 2,
        "invoices": 3,
        "views": 3,
    }
    for folder, count in minimum.items():
        assert len(repo.records[folder]) >= count, folder
    assert {lead["status"] for lead in repo.records["leads"].values()} == {
        "new",
        "working",
        "qualified",
        "disqualified",
    }
    assert {q["status"] for q in repo.records["quotes"].values()} >= {
        "draft",
        "active",
        "won",
        "revised",
    }
    impacts = {repo.catalogs["channels"][o["channel"]]["impact"] for o in opps if "channel" in o}
    assert impacts == {"partner", "contact", "person", "campaign", "none"}
