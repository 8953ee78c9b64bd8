"""The references the packaged schemas declare with ``x-ref``, and finding them in data.

A reference is declared once, in the schema (``"x-ref": "partners"``, or for a field
whose target depends on a sibling, ``{"by": "type", "map": {...}}``), and never again
in a rule: :func:`ref_specs` reads where a schema declares them, and
:func:`extract_refs` finds every reference in a record or a catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from crmfiles.schema import all_schemas

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


@dataclass(frozen=True)
class _Plan:
    """A schema's references sorted by shape, so the common shapes cost one dict lookup."""

    scalars: tuple[tuple[str, str], ...]  # key -> target
    lists: tuple[tuple[str, str], ...]  # key: [ids] -> target
    item_fields: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # key: [{sub: id}]
    other: tuple[RefSpec, ...]


@cache
def _plan(name: str) -> _Plan:
    scalars, lists, other = [], [], []
    items: dict[str, list[tuple[str, str]]] = {}
    for spec in ref_specs(name):
        path, target = spec.path, spec.target
        if target is None or path[0] == "*":
            other.append(spec)
        elif len(path) == 1:
            scalars.append((path[0], target))
        elif len(path) == 2 and path[1] == "*":
            lists.append((path[0], target))
        elif len(path) == 3 and path[1] == "*" and path[2] != "*":
            items.setdefault(path[0], []).append((path[2], target))
        else:
            other.append(spec)
    return _Plan(
        tuple(scalars), tuple(lists), tuple((k, tuple(v)) for k, v in items.items()), tuple(other)
    )


def extract_refs(name: str, data: Any) -> list[Ref]:
    """Every reference in ``data``: ``(pointer, target, id)``; non-string values are
    left to the schema check.  (The hot path of a cold run: one call per record.)"""
    out: list[Ref] = []
    if isinstance(data, list):  # a catalog: its specs start at "every entry"
        for spec in ref_specs(name):
            if spec.path[0] == "*":
                _follow(spec, data, spec.path, (), out)
        return out
    if not isinstance(data, dict):
        return out
    plan = _plan(name)
    get = data.get
    for key, target in plan.scalars:
        value = get(key)
        if type(value) is str:
            out.append(((key,), target, value))
    for key, target in plan.lists:
        value = get(key)
        if type(value) is list:
            out.extend(
                ((key, i), target, item) for i, item in enumerate(value) if type(item) is str
            )
    for key, fields in plan.item_fields:
        value = get(key)
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) is dict:
                    for sub, target in fields:
                        ref = item.get(sub)
                        if type(ref) is str:
                            out.append(((key, i, sub), target, ref))
    for spec in plan.other:
        if spec.path[0] in data:
            _follow(spec, data, spec.path, (), out)
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
