"""The merged text of a record or catalog file: ours, edited where the merge differs.

The merge is made on data (:mod:`crmfiles.merge.values`); the text is ours with only
the entries that changed rewritten, so comments, blank lines, key order and quoting
elsewhere stay as ours had them.  An entry the merge took from theirs is copied from
theirs' text (its comments and style come with it); one both sides changed in
different places is edited inside, key by key or item by item; only what is new to
both sides is written out, in the style of ``crm fmt``.

A conflict is shown on the field (the top-level key, or the catalog entry) that holds
it, between git's markers: ours' version of that field, then theirs'.  The result is
read back before it is used: with no conflict it must be the merged data, and with
conflicts each side of the markers must read as that side's resolution.  Any doubt
returns None, and the caller falls back to git's own line merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmfiles import lazy_module
from crmfiles.merge.values import MISSING, conflicts, identity, merge3, resolve, same
from crmfiles.ops.yamltext import _entry, _item, _last_line_end
from crmfiles.records.edit import scalar
from crmfiles.records.yamlio import ParseError, compose, parse

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

MARKER_SIZE = 7
_DASH = re.compile(r"( *)- +")


class _Doubt(Exception):
    """The text cannot be edited safely: fall back to a line merge."""


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int  # fields left between conflict markers


@dataclass(frozen=True)
class _Slot:
    """One entry of a block mapping, or one item of a block sequence, in a text."""

    start: int  # the key's (or the dash's) first character
    end: int  # past the end of its last line
    column: int
    own_line: bool  # nothing but spaces before it on its line
    key_text: str | None  # as the file spells the key (mappings)
    node: yaml.Node  # the value (or the item)
    lead: int  # where the comment lines right above it begin (its line, if none)

    @property
    def line_start(self) -> int:
        return self.start - self.column if self.own_line else self.start


def merge_text(base_text: str, ours_text: str, theirs_text: str) -> Merged | None:
    """The merged text, or None when a field-level merge cannot be trusted."""
    if "\r" in base_text or "\r" in ours_text or "\r" in theirs_text:
        return None  # CRLF lines: new lines would mix endings; git's merge keeps them
    try:
        base = parse(base_text) if base_text.strip() else None
        ours, theirs = parse(ours_text), parse(theirs_text)
        kind = type(ours)
        if kind not in (dict, list) or type(theirs) is not kind:
            return None
        if base is not None and type(base) is not kind:
            return None
        merged = merge3(kind() if base is None else base, ours, theirs)
        ours_root, theirs_root = compose(ours_text), compose(theirs_text)
        editor = _Editor(ours_text, theirs_text, theirs_root)
        text, count = editor.root(ours_root, ours, merged, theirs)
        if not _reads_back(text, merged, count):
            return None
        return Merged(text, count)
    except (_Doubt, ParseError, ValueError, yaml.YAMLError, RecursionError):
        return None


def _reads_back(text: str, merged: Any, count: int) -> bool:
    if not count:
        return same(parse(text), merged)
    return all(same(parse(pick(text, side)), resolve(merged, side)) for side in ("ours", "theirs"))


def pick(text: str, side: str) -> str:
    """The text with every conflict settled for ``side``: what the user gets by keeping
    that side between the markers."""
    out, keep = [], True
    for line in text.splitlines(keepends=True):
        if line.startswith("<" * MARKER_SIZE + " "):
            keep = side == "ours"
        elif line.startswith("=" * MARKER_SIZE) and line.strip() == "=" * MARKER_SIZE:
            keep = side == "theirs"
        elif line.startswith(">" * MARKER_SIZE + " "):
            keep = True
        elif keep:
            out.append(line)
    return "".join(out)


def _slots(text: str, node: yaml.Node) -> dict[Any, _Slot]:
    """The entries (by key) or items (by identity) of a block collection."""
    out: dict[Any, _Slot] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Doubt("a key that is not a scalar")
            start = key_node.start_mark.index
            line_start = text.rfind("\n", 0, start) + 1
            column = start - line_start
            key = parse(f"{text[start : key_node.end_mark.index]}: 0\n")
            if not isinstance(key, dict) or len(key) != 1:
                raise _Doubt("a key that does not read back")
            out[next(iter(key))] = _Slot(
                start,
                _last_line_end(text, value_node),
                column,
                not text[line_start:start].strip(),
                text[start : key_node.end_mark.index],
                value_node,
                _lead(text, line_start),
            )
        return out
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            line_start = text.rfind("\n", 0, item.start_mark.index) + 1
            dash = _DASH.fullmatch(text, line_start, item.start_mark.index)
            if dash is None:
                raise _Doubt("an item that does not start its line")
            column = len(dash.group(1))
            key = identity(_data(text, item))
            if key is None or key in out:
                raise _Doubt("items without an identity")
            end = _last_line_end(text, item)
            out[key] = _Slot(
                line_start + column, end, column, True, None, item, _lead(text, line_start)
            )
        return out
    raise _Doubt("not a collection")


def _lead(text: str, line_start: int) -> int:
    """The start of the comment lines right above the line at ``line_start``."""
    lead = line_start
    while lead > 0:
        above = text.rfind("\n", 0, lead - 1) + 1
        if not text[above : lead - 1].lstrip(" ").startswith("#"):
            break
        lead = above
    return lead


def _data(text: str, node: yaml.Node) -> Any:
    """The data of one node (an item, to know its identity)."""
    begin = text.rfind("\n", 0, node.start_mark.index) + 1
    lines = text[begin : _last_line_end(text, node)]
    pad = node.start_mark.index - begin
    # the item's own lines, its first line's prefix (``- ``) blanked
    return parse(" " * pad + lines[pad:])


def _block(node: yaml.Node | None) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style is not True


class _Editor:
    def __init__(self, ours_text: str, theirs_text: str, theirs_root: yaml.Node | None):
        self.text = ours_text
        self.theirs_text = theirs_text
        self.theirs_root = theirs_root

    # --- the whole file -----------------------------------------------------------

    def root(self, node: yaml.Node | None, ours: Any, merged: Any, theirs: Any) -> tuple[str, int]:
        if not _block(node) or not _block(self.theirs_root):
            raise _Doubt("a file that is not a block collection")
        assert node is not None and self.theirs_root is not None
        edits = self._collection(node, ours, merged, self.theirs_root, markers=True)
        out = self.text
        for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            out = out[:start] + replacement + out[end:]
        count = sum(1 for line in out.splitlines() if line.startswith("<" * MARKER_SIZE + " "))
        return out, count

    # --- a block collection, edited where the merge differs from ours -------------

    def _collection(
        self,
        node: yaml.Node,
        ours: Any,
        merged: Any,
        theirs_node: yaml.Node | None,
        *,
        markers: bool = False,
    ) -> list[tuple[int, int, str]]:
        slots = _slots(self.text, node)
        theirs_slots = (
            _slots(self.theirs_text, theirs_node)
            if theirs_node is not None and _block(theirs_node)
            else {}
        )
        is_map = isinstance(node, yaml.MappingNode)
        ours_items = ours if is_map else {identity(i): i for i in ours}
        if is_map:
            merged_items = dict(merged)
        else:
            merged_items = {}
            for item in merged:
                key = identity(resolve(item, "ours")) or identity(resolve(item, "theirs"))
                if key is None or key in merged_items:
                    raise _Doubt("merged items without an identity")
                merged_items[key] = item
        kept = [k for k in merged_items if k in slots]
        if kept != [k for k in slots if k in merged_items]:
            raise _Doubt("the merge reorders items")
        column = next(iter(slots.values())).column if slots else 0
        edits: list[tuple[int, int, str]] = []
        previous: _Slot | None = None
        for key, value in merged_items.items():
            slot = slots.get(key)
            theirs_slot = theirs_slots.get(key)
            if slot is None:  # new to ours: after the entry it follows
                at = previous.end if previous else self._first_line(slots)
                rendered = self._render(key, value, column, theirs_slot, markers)
                if theirs_slot is not None and 0 < theirs_slot.lead < theirs_slot.line_start:
                    # the comment lines above it in theirs come with it
                    rendered = (
                        self.theirs_text[theirs_slot.lead : theirs_slot.line_start] + rendered
                    )
                edits.append((at, at, rendered))
                continue
            previous = slot
            if same(value, ours_items[key]):
                continue
            edits.extend(self._changed(key, value, slot, theirs_slot, ours_items[key], markers))
        for key, slot in slots.items():
            if key not in merged_items:  # removed by theirs
                if not slot.own_line:
                    raise _Doubt("removing a key that shares its line")
                edits.append((slot.line_start, slot.end, ""))
        return edits

    def _first_line(self, slots: dict[Any, _Slot]) -> int:
        first = next(iter(slots.values()), None)
        if first is None or not first.own_line:
            raise _Doubt("no line to insert before")
        return first.line_start

    def _changed(
        self,
        key: Any,
        value: Any,
        slot: _Slot,
        theirs_slot: _Slot | None,
        ours: Any,
        markers: bool,
    ) -> list[tuple[int, int, str]]:
        if not conflicts(value) and _block(slot.node) and type(value) is type(ours):
            try:
                return self._collection(
                    slot.node, ours, value, theirs_slot.node if theirs_slot else None
                )
            except _Doubt:
                pass  # rewritten whole, below
        rendered = self._render(key, value, slot.column, theirs_slot, markers, slot)
        if slot.own_line:
            return [(slot.line_start, slot.end, rendered)]
        if conflicts(value):
            raise _Doubt("a conflict inside an item")
        return [(slot.start, slot.end, rendered[slot.column :])]

    # --- writing one entry or item --------------------------------------------------

    def _render(
        self,
        key: Any,
        value: Any,
        column: int,
        theirs_slot: _Slot | None,
        markers: bool,
        ours_slot: _Slot | None = None,
    ) -> str:
        """The full lines of one entry (or item), indented at ``column``."""
        if not conflicts(value):
            return self._lines(key, value, column, theirs_slot, ours_slot)
        if not markers:
            raise _Doubt("a conflict below the top level")
        sides = []
        for side in ("ours", "theirs"):
            chosen = resolve(value, side)
            sides.append(
                ""
                if chosen is MISSING
                else self._lines(key, chosen, column, theirs_slot, ours_slot)
            )
        return (
            f"{'<' * MARKER_SIZE} ours\n{sides[0]}{'=' * MARKER_SIZE}\n"
            f"{sides[1]}{'>' * MARKER_SIZE} theirs\n"
        )

    def _lines(
        self,
        key: Any,
        value: Any,
        column: int,
        theirs_slot: _Slot | None,
        ours_slot: _Slot | None,
    ) -> str:
        for text, slot in ((self.theirs_text, theirs_slot), (self.text, ours_slot)):
            if slot is None or slot.column != column or not slot.own_line:
                continue
            if same(_slot_value(text, slot), value):
                copied = " " * column + text[slot.start : slot.end]
                return copied if copied.endswith("\n") else copied + "\n"
        pad = " " * column
        if isinstance(key, tuple):  # an item, known by its identity
            lines = _item(value, column)
        else:
            key_text = next(
                (s.key_text for s in (ours_slot, theirs_slot) if s and s.key_text), None
            )
            flow = any(
                s is not None
                and isinstance(s.node, yaml.SequenceNode)
                and s.node.flow_style is True
                for s in (ours_slot, theirs_slot)
            )
            lines = _entry(key_text or scalar(key), value, column, flow)
        assert all(line.startswith(pad) or not line for line in lines)
        return "".join(f"{line}\n" for line in lines)


def _slot_value(text: str, slot: _Slot) -> Any:
    """The value a slot holds (for an item, the item; for an entry, its value)."""
    lines = " " * slot.column + text[slot.start : slot.end]
    data = parse(lines)
    if slot.key_text is None:
        return data[0] if isinstance(data, list) and len(data) == 1 else MISSING
    return next(iter(data.values())) if isinstance(data, dict) and len(data) == 1 else MISSING
