"""Where a key or value sits in a YAML file's text: spans for diagnostics.

Apart from :mod:`crmfiles.records.yamlio` (reading YAML) because it answers another
question, for the few files that have a finding: :func:`locate` walks PyYAML's node
tree (from :func:`crmfiles.records.yamlio.compose`), :func:`top_level_slots` reads a
plainly laid out record's top-level lines without composing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from crmfiles import lazy_module
from crmfiles.records.yamlio import ParseError, parse

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")


class Slot(NamedTuple):
    """Where a top-level ``key: value`` line is (indexes into the text)."""

    line: int  # 1-based
    start: int  # the key's first character (the line's start)
    key_end: int
    value: tuple[int, int] | None  # a one-line plain scalar's start and end, else None


_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):(?=[ \t\r\n]|$)", re.MULTILINE)
_NOT_PLAIN = frozenset("'\"|>&*!%@`[{#")


def top_level_slots(text: str, data: Any) -> dict[str, Slot] | None:
    """Where each top-level key of a record sits, read from its lines rather than by
    composing it (PyYAML's import and composer cost more than a move's edit), when the
    text is laid out plainly: its column-0 ``key:`` lines are exactly ``data``'s keys,
    in order.  Anything else (quoted keys, flow style, a key line inside a multi-line
    scalar) gives None and the caller composes.  A slot's value is given only for a
    one-line plain scalar that reads back as ``data``'s value."""
    if not isinstance(data, dict):
        return None
    slots: dict[str, Slot] = {}
    line, counted = 1, 0
    for match in _TOP_KEY.finditer(text):
        key, start, key_end = match.group(1), match.start(), match.end(1)
        if key in slots:
            return None
        line += text.count("\n", counted, start)
        counted = start
        end = text.find("\n", key_end)
        rest = text[key_end + 1 : len(text) if end < 0 else end]
        token = rest.lstrip(" \t")
        cut = min((i for i in (token.find(" #"), token.find("\t#")) if i >= 0), default=-1)
        token = (token[:cut] if cut >= 0 else token).rstrip(" \t\r")
        value = None
        if token and token[0] not in _NOT_PLAIN and key in data:
            begin = key_end + 1 + (len(rest) - len(rest.lstrip(" \t")))
            try:
                same = parse(f"k: {token}\n") == {"k": data[key]}
            except ParseError:
                same = False
            value = (begin, begin + len(token)) if same else None
        slots[key] = Slot(line, start, key_end, value)
    return slots if list(slots) == list(data) else None


def locate_top_level(
    slots: dict[str, Slot], text: str, pointer: tuple[str | int, ...], at_key: bool
) -> Span | None:
    """:func:`locate` for a one-key pointer from :func:`top_level_slots` (None: the
    lines cannot tell, compose)."""
    if len(pointer) != 1 or not isinstance(pointer[0], str):
        return None
    slot = slots.get(pointer[0])
    if slot is None:
        return None
    if at_key:
        return Span(slot.line, 1, slot.line, slot.key_end - slot.start + 1)
    if slot.value is None:
        return None
    begin, end = slot.value
    return Span(slot.line, begin - slot.start + 1, slot.line, end - slot.start + 1)


@dataclass(frozen=True, slots=True)
class Span:
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int


def locate(root: yaml.Node | None, pointer: tuple[str | int, ...], at_key: bool = False) -> Span:
    """The span of the value (or key) at ``pointer``; the nearest existing ancestor
    when the pointer leads nowhere (a missing field is reported at its parent)."""
    if root is None:
        return Span(1, 1, 1, 1)
    node: yaml.Node = root
    key_node: yaml.Node | None = None
    for part in pointer:
        child: yaml.Node | None = None
        child_key: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    child, child_key = v, k
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node, key_node = child, child_key
    else:
        if at_key and key_node is not None:
            node = key_node
    if node is root and isinstance(root, yaml.MappingNode) and root.value:
        # the record as a whole: its first key, never line 0
        first_key = root.value[0][0]
        return _span(first_key)
    return _span(node)


def _span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style is not True:
        # a block collection: underline its first line only
        return Span(start.line + 1, start.column + 1, start.line + 1, start.column + 2)
    end_line, end_column = end.line + 1, end.column + 1
    if end_line != start.line + 1:
        end_line, end_column = start.line + 1, start.column + 2
    return Span(start.line + 1, start.column + 1, end_line, end_column)
