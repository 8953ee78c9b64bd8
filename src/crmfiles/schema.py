"""The packaged JSON Schemas, their compiled validators, and the references they declare.

Two validators per schema: ``jsonschema_rs`` (compiled, format checks on) decides
validity on the hot path; Python's ``jsonschema`` explains the few invalid records
(every error, with the best match of an ``anyOf``/``oneOf``).  Tests hold the two to
agreeing.  Reference checks are derived from the schemas' ``x-ref`` annotations, so a
reference is declared once, in the schema, and never again in a rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMA_BASE = "https://crmfiles.dev/schema/"


def data_dir(name: str) -> Path:
    """A data folder shipped in the wheel (``schema``, ``example-repo``, ...), or the
    project's top-level folder when running from a source checkout."""
    packaged = Path(str(resources.files("crmfiles"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


def schema_dir() -> Path:
    return data_dir("schema")


@cache
def all_schemas() -> dict[str, dict[str, Any]]:
    """Schema name (``opportunity``, ``stages``, ``crm``, ``common``) -> schema."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().glob("*.schema.json")):
        out[path.name.removesuffix(".schema.json")] = json.loads(path.read_text("utf-8"))
    return out


@cache
def _rs_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry(
        [
            (schema.get("$id", SCHEMA_BASE + name + ".schema.json"), schema)
            for name, schema in all_schemas().items()
        ]
    )


@cache
def fast_validator(name: str) -> Any:
    return jsonschema_rs.validator_for(
        all_schemas()[name], registry=_rs_registry(), validate_formats=True
    )


@cache
def reference_validator(name: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (schema.get("$id", SCHEMA_BASE + n + ".schema.json"), Resource.from_contents(schema))
        for n, schema in all_schemas().items()
    )
    cls = jsonschema.Draft202012Validator
    return cls(all_schemas()[name], registry=registry, format_checker=cls.FORMAT_CHECKER)


@dataclass(frozen=True, slots=True)
class SchemaError:
    pointer: tuple[str | int, ...]
    message: str
    at_key: bool = False


def explain(name: str, instance: Any) -> list[SchemaError]:
    """Every schema error of an invalid instance, as the reference validator sees it."""
    from jsonschema.exceptions import best_match

    validator = reference_validator(name)
    errors: list[SchemaError] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        if error.context:
            error = best_match(error.context)
        pointer = tuple(error.absolute_path)
        at_key = False
        message = error.message
        if error.validator == "additionalProperties":
            extra = _extra_keys(error.instance, error.schema)
            for key in extra:
                errors.append(SchemaError((*pointer, key), f"unknown field '{key}'", True))
            if extra:
                continue
        elif error.validator == "required":
            message = f"missing required field {message.split(' is a required')[0]}"
        errors.append(SchemaError(pointer, message, at_key))
    return errors


def _extra_keys(instance: Any, schema: dict[str, Any]) -> list[str]:
    if not isinstance(instance, dict):
        return []
    props = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    import re

    return [
        k for k in instance if k not in props and not any(re.search(p, str(k)) for p in patterns)
    ]


# --- references declared with x-ref --------------------------------------------------

Path_ = tuple[str, ...]  # field names, "*" for every item of an array


@dataclass(frozen=True, slots=True)
class RefSpec:
    path: Path_
    target: str | None  # a record folder or catalog name; None when polymorphic
    by: str | None = None  # polymorphic: sibling field that names the type
    targets: tuple[tuple[str, str], ...] = ()  # polymorphic: type value -> target


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    doc, _, frag = ref.partition("#")
    schemas = all_schemas()
    target: Any = schemas[doc.removesuffix(".schema.json")] if doc else None
    if target is None:
        return node
    for part in [p for p in frag.split("/") if p]:
        target = target[part]
    merged = {k: v for k, v in node.items() if k != "$ref"}
    return {**_resolve(target), **merged}


def _walk(node: Any, path: Path_, depth: int = 0) -> Iterator[RefSpec]:
    if not isinstance(node, dict) or depth > 20:
        return
    node = _resolve(node)
    xref = node.get("x-ref")
    if isinstance(xref, str):
        yield RefSpec(path, xref)
    elif isinstance(xref, dict):
        yield RefSpec(path, None, xref["by"], tuple(sorted(xref["map"].items())))
    for key, sub in node.get("properties", {}).items():
        yield from _walk(sub, (*path, key), depth + 1)
    if "items" in node:
        yield from _walk(node["items"], (*path, "*"), depth + 1)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(combinator, []):
            yield from _walk(sub, path, depth + 1)
    for branch in ("then", "else"):
        if branch in node:
            yield from _walk(node[branch], path, depth + 1)


@cache
def ref_specs(name: str) -> tuple[RefSpec, ...]:
    """Where the schema ``name`` declares references, deduplicated, in schema order."""
    schema = all_schemas()[name]
    # a catalog schema is an array of entries: references sit under "*"
    seen: dict[tuple[Path_, str | None, str | None], RefSpec] = {}
    for spec in _walk(schema, ()):
        seen.setdefault((spec.path, spec.target, spec.by), spec)
    return tuple(seen.values())


Ref = tuple[tuple[str | int, ...], str, str]


def extract_refs(name: str, data: Any) -> list[Ref]:
    """Every reference in ``data``: ``(pointer, target, id)``; non-string values are
    left to the schema check.  (On the hot path: most fields are absent, so each spec
    first looks up its top-level key.)"""
    out: list[Ref] = []
    if isinstance(data, list):  # a catalog: its specs start at "every entry"
        for spec in ref_specs(name):
            if spec.path[0] == "*":
                _follow(spec, data, spec.path, (), out)
        return out
    if not isinstance(data, dict):
        return out
    for spec in ref_specs(name):
        first = spec.path[0]
        value = data.get(first)
        if value is None:
            continue
        if len(spec.path) == 1:
            if spec.target is not None:
                if isinstance(value, str):
                    out.append(((first,), spec.target, value))
            else:
                _follow(spec, data, spec.path, (), out)
        else:
            _follow(spec, value, spec.path[1:], (first,), out)
    return out


def _follow(
    spec: RefSpec, node: Any, rest: Path_, at: tuple[str | int, ...], out: list[Ref]
) -> None:
    head, tail = rest[0], rest[1:]
    if head == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                if tail:
                    _follow(spec, item, tail, (*at, index), out)
                elif isinstance(item, str) and spec.target is not None:
                    out.append(((*at, index), spec.target, item))
        return
    if not isinstance(node, dict) or head not in node:
        return
    value = node[head]
    if tail:
        _follow(spec, value, tail, (*at, head), out)
        return
    if not isinstance(value, str):
        return
    if spec.target is not None:
        out.append(((*at, head), spec.target, value))
    elif spec.by is not None:
        target = dict(spec.targets).get(str(node.get(spec.by)))
        if target:
            out.append(((*at, head), target, value))
