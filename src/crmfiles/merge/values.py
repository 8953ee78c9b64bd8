"""A three-way merge of YAML data, field by field.

Where only one side changed a value, that side wins; where both made the same change,
it is taken once; where both changed it differently, the merged value holds a
:class:`Conflict`.  Mappings merge key by key, recursively.  A list whose items each
have an identity merges item by item: scalars are their own identity (``contacts``,
``team``, ``tags``, a kind's ``stages``), a mapping is known by the first of
:data:`IDENTITY_KEYS` it has (a catalog entry by ``id``, a competitor by ``partner``,
a line by its ``product``, or its ``description`` when it has no product).  Any other
list (duplicates, items without an identity) is one value.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

IDENTITY_KEYS = ("id", "partner", "product", "description", "title")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a key or item a side does not have


@dataclass(frozen=True)
class Conflict:
    """Both sides changed one value differently (MISSING: that side removed it)."""

    ours: Any
    theirs: Any


def same(a: Any, b: Any) -> bool:
    """Equal as YAML data: ``1``, ``1.0`` and ``true`` are three different values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or a is b


def merge3(base: Any, ours: Any, theirs: Any) -> Any:
    """The merged value; it may hold :class:`Conflict` values (see :func:`conflicts`)."""
    if same(ours, theirs):
        return ours
    if same(base, ours):
        return theirs
    if same(base, theirs):
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _merge_mappings(base if isinstance(base, dict) else {}, ours, theirs)
    if isinstance(ours, list) and isinstance(theirs, list):
        merged = merge_lists(base if isinstance(base, list) else [], ours, theirs)
        if merged is not None:
            return merged
    return Conflict(ours, theirs)


def _merge_mappings(base: dict[Any, Any], ours: dict[Any, Any], theirs: dict[Any, Any]) -> Any:
    out: dict[Any, Any] = {}
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        value = merge3(base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING))
        if value is not MISSING:
            out[key] = value
    return out


def identity(item: Any) -> Hashable | None:
    """What an item of a list is known by, or None when it has no identity."""
    if isinstance(item, dict):
        for key in IDENTITY_KEYS:
            value = item.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return (key, value)
        return None
    if isinstance(item, (str, int, float, bool)) or item is None:
        return ("=", type(item).__name__, item)
    return None


def _keyed(items: list[Any]) -> dict[Hashable, Any] | None:
    keyed: dict[Hashable, Any] = {}
    for item in items:
        key = identity(item)
        if key is None or key in keyed:
            return None
        keyed[key] = item
    return keyed


def merge_lists(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any] | None:
    """Item by item, in ours' order with theirs' new items after the item they follow
    in theirs; None when the items have no identity (the caller merges the whole list)."""
    b, o, t = _keyed(base), _keyed(ours), _keyed(theirs)
    if b is None or o is None or t is None:
        return None
    order: list[Hashable] = list(o)
    placed = set(order)
    for position, key in enumerate(t):
        if key in placed:
            continue
        before = next((k for k in reversed(list(t)[:position]) if k in placed), None)
        at = 0 if before is None else order.index(before) + 1
        while at < len(order) and order[at] not in b:
            at += 1  # after what ours added there too: ours' new items first
        order.insert(at, key)
        placed.add(key)
    out = []
    for key in order:
        value = merge3(b.get(key, MISSING), o.get(key, MISSING), t.get(key, MISSING))
        if value is not MISSING:
            out.append(value)
    return out


def conflicts(value: Any) -> bool:
    """Whether a merged value holds a conflict anywhere."""
    if isinstance(value, Conflict):
        return True
    if isinstance(value, dict):
        return any(conflicts(v) for v in value.values())
    if isinstance(value, list):
        return any(conflicts(v) for v in value)
    return False


def resolve(value: Any, side: str) -> Any:
    """The merged value with every conflict settled for ``side`` ("ours"/"theirs");
    MISSING when that side removed it."""
    if isinstance(value, Conflict):
        return getattr(value, side)
    if isinstance(value, dict):
        out = {k: resolve(v, side) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not MISSING}
    if isinstance(value, list):
        return [v for v in (resolve(v, side) for v in value) if v is not MISSING]
    return value
