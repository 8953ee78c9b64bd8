"""YAML text out for operations: new records written whole, and edits of existing
ones that change only the lines that change.

Scalars go through :func:`crmfiles.records.edit.set_fields` (spliced at their marks).
A list or mapping value is spliced the same way, as a block under its key (or a flow
list where the file had one), so key order, comments and blank lines elsewhere stay
as written.  New files come out in the style of ``crm fmt`` (two-space mappings,
sequence items indented under their key), so formatting them changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmfiles import lazy_module
from crmfiles.ops.init import with_schema_comment
from crmfiles.records.edit import DELETE, scalar, set_fields
from crmfiles.records.yamlio import ParseError, compose, parse
from crmfiles.records.yamlspans import top_level_slots

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")


def plain(value: Any) -> Any:
    """Python values as a record holds them: exact decimals become YAML numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _is_collection(value: Any) -> bool:
    return isinstance(value, (Mapping, list, tuple))


WIDTH = 88  # where long text is folded, as the example repository does


def _text_block(value: str, indent: int) -> list[str] | None:
    """Long or multi-line text as a folded (``>-``) or literal (``|-``) block, the way
    people write it; None when a block would not read back as the same text."""
    pad = " " * indent
    if "\n" in value:
        lines = value.split("\n")
        if any(line != line.rstrip() or "\t" in line for line in lines) or not lines[0].strip():
            return None
        block = ["|-", *(f"{pad}{line}" if line else "" for line in lines)]
    elif len(value) + indent > WIDTH - 10 and " " in value:
        if value != value.strip() or "  " in value or "\t" in value:
            return None
        block, line = [">-"], ""
        for word in value.split(" "):
            if line and len(pad) + len(line) + 1 + len(word) > WIDTH:
                block.append(pad + line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        block.append(pad + line)
    else:
        return None

    try:
        same = parse("k: " + "\n".join(block) + "\n") == {"k": value}
    except ParseError:
        same = False
    return block if same else None


def _entry(key: str, value: Any, indent: int, flow: bool = False) -> list[str]:
    """The lines of ``key: value`` at ``indent`` spaces."""
    pad = " " * indent
    value = plain(value)
    if isinstance(value, str):
        block = _text_block(value, indent + 2)
        if block is not None:
            return [f"{pad}{key}: {block[0]}", *block[1:]]
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}{key}: {{}}"]
        lines = [f"{pad}{key}:"]
        for sub_key, sub_value in value.items():
            lines += _entry(scalar(sub_key), sub_value, indent + 2)
        return lines
    if isinstance(value, list):
        if not value:
            return [f"{pad}{key}: []"]
        if flow and not any(_is_collection(v) for v in value):
            return [f"{pad}{key}: [{', '.join(scalar(v) for v in value)}]"]
        lines = [f"{pad}{key}:"]
        for item in value:
            lines += _item(item, indent + 2)
        return lines
    return [f"{pad}{key}: {scalar(value)}"]


def _item(value: Any, indent: int) -> list[str]:
    """One sequence item, ``- value``, its dash at ``indent``."""
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        lines: list[str] = []
        for sub_key, sub_value in value.items():
            lines += _entry(scalar(sub_key), sub_value, indent + 2)
        lines[0] = f"{pad}- {lines[0][indent + 2 :]}"
        return lines
    if isinstance(value, list) and value:
        inner = [line for item in value for line in _item(item, indent + 2)]
        inner[0] = f"{pad}- {inner[0][indent + 2 :]}"
        return inner
    if isinstance(value, Mapping):
        return [f"{pad}- {{}}"]
    if isinstance(value, list):
        return [f"{pad}- []"]
    return [f"{pad}- {scalar(value)}"]


def dump(path: str, data: Mapping[str, Any]) -> str:
    """A new record's text, with the ``yaml-language-server`` line on top."""
    lines = [line for key, value in data.items() for line in _entry(scalar(key), value, 0)]
    return with_schema_comment(path, "\n".join(lines) + "\n")


def set_values(text: str, changes: Mapping[str, Any]) -> str:
    """Set (or, with ``DELETE``, remove) top-level fields of a record's text, changing
    only their lines.  Existing keys stay where they are; new keys are appended."""
    spliced_lines = _set_on_lines(text, changes)
    if spliced_lines is not None:
        return spliced_lines
    root = compose(text)
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("a record is a YAML mapping")
    nodes = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    simple: dict[str, Any] = {}
    spliced: dict[str, Any] = {}
    for key, value in changes.items():
        old = nodes.get(key)
        old_is_collection = old is not None and not isinstance(old[1], yaml.ScalarNode)
        if _is_collection(value) or (old_is_collection and value is not DELETE):
            spliced[key] = value
        elif old_is_collection:
            spliced[key] = DELETE
        else:
            simple[key] = plain(value) if value is not DELETE else DELETE
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    for key, value in spliced.items():
        if key not in nodes:
            if value is not DELETE:
                appended += _entry(scalar(key), value, 0)
            continue
        key_node, value_node = nodes[key]
        start = text.rfind("\n", 0, key_node.start_mark.index) + 1
        end = _last_line_end(text, value_node)
        if value is DELETE:
            edits.append((start, end, ""))
            continue
        key_text = text[key_node.start_mark.index : key_node.end_mark.index]
        flow = isinstance(value_node, yaml.SequenceNode) and value_node.flow_style is True
        lines = _entry(key_text, value, key_node.start_mark.column, flow)
        edits.append((start, end, "".join(f"{line}\n" for line in lines)))
    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    if appended:
        if out and not out.endswith("\n"):
            out += "\n"
        out += "".join(f"{line}\n" for line in appended)
    return set_fields(out, simple) if simple else out


def _set_on_lines(text: str, changes: Mapping[str, Any]) -> str | None:
    """:func:`set_values` when every change replaces a one-line plain scalar with
    another scalar (a stage move, a probability): each value is replaced on its line
    and the result is read back; None when that does not give exactly the record with
    the changes, and the caller composes."""
    values = {key: plain(value) for key, value in changes.items()}
    if any(value is DELETE or _is_collection(value) for value in values.values()):
        return None
    try:
        data = parse(text)
        slots = top_level_slots(text, data)
    except ParseError:
        return None
    if slots is None:
        return None
    edits = []
    for key, value in values.items():
        slot = slots.get(key)
        if slot is None or slot.value is None:
            return None
        edits.append((*slot.value, scalar(value)))
    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    try:
        same = parse(out) == {**data, **values}
    except ParseError:
        same = False
    return out if same else None


def _last_line_end(text: str, node: yaml.Node) -> int:
    """The end of the last line that holds part of ``node`` (PyYAML ends a block
    collection at the next token, past any blank lines and comments that follow it)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style is not True:
        if not node.value:
            break
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end = node.end_mark.index
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        while end > node.start_mark.index and text[end - 1] == "\n":
            end -= 1
    newline = text.find("\n", end)
    return len(text) if newline < 0 else newline + 1
