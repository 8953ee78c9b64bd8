"""Validate as you type: the form's candidate text checked by the validate engine,
and each diagnostic put back on the field it is about."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmfiles import lazy_module
from crmfiles.diagnostics import Diagnostic
from crmfiles.records.edit import DELETE
from crmfiles.records.yamlio import compose

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

__all__ = ["DELETE", "candidate_text", "field_of", "validate"]


def candidate_text(text: str, changes: Mapping[str, Any]) -> str:
    """The record's text with the form's changes, spliced the way a save splices them."""
    from crmfiles.ops.yamltext import set_values

    return set_values(text, changes)


def validate(root: Path, path: str, text: str) -> list[Diagnostic]:
    """The checks a save would meet (every one-revision check, and the lifecycle rules
    against HEAD), reported for this file: the operations' own check."""
    from crmfiles.ops.edit import check_edit

    return list(check_edit(root, path, text))


def field_of(text: str, line: int) -> str | None:
    """The top-level key (``insight.pain`` for a nested one) whose lines hold ``line``."""
    try:
        root = compose(text)
    except Exception:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    index = line - 1
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        last = value.end_mark.line - (1 if _ends_at_next_line(value) else 0)
        if key.start_mark.line <= index <= max(last, key.start_mark.line):
            if isinstance(value, yaml.MappingNode) and key.value == "insight":
                for sub_key, sub_value in value.value:
                    if sub_key.start_mark.line <= index <= sub_value.end_mark.line:
                        return f"insight.{sub_key.value}"
            return str(key.value)
    return None


def _ends_at_next_line(node: yaml.Node) -> bool:
    """A block collection's end mark is the start of the line after it."""
    return (
        isinstance(node, (yaml.MappingNode, yaml.SequenceNode))
        and node.flow_style is not True
        and node.end_mark.column == 0
    )
