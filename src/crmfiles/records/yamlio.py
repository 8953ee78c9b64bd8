"""YAML in: one fast parser for the bulk, PyYAML for positions and as the reference.

Both read YAML 1.2's core schema, the way crmfiles promises to read records: no tag
constructs a Python object, timestamps stay ISO strings, only ``true``/``false`` are
booleans (``on``/``yes`` stay strings; the ``yaml-ambiguous`` rule flags them).

- :func:`parse` is the hot path: ``yaml_rs`` (Rust, ~10x libyaml), with limits on
  alias expansion so an alias bomb is refused in well under a second.
- :func:`parse_reference` is PyYAML (libyaml's scanner, Python resolvers) configured
  to the same schema: tests hold the two to agreeing on every example and fuzz case.
- :func:`compose` returns PyYAML's node tree with start and end marks, used only for
  the few files that have a finding, to put a line and column on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
import yaml_rs

MAX_DEPTH = 64
MAX_ALIAS_EXPANSIONS = 10_000

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ParseError(Exception):
    """A file that is not a YAML document crmfiles can read."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


_ALIAS_LIMITS = yaml_rs.AliasLimits(
    max_alias_expansions_per_anchor=MAX_ALIAS_EXPANSIONS,
    max_total_replayed_events=MAX_ALIAS_EXPANSIONS * 10,
)
_RS_POSITION = re.compile(r"at line (\d+), column (\d+)")
_RS_DETAIL = re.compile(r"\n\s*\|.*", re.DOTALL)


def parse(text: str) -> Any:
    """Parse one YAML document on the fast path; raise :class:`ParseError`."""
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=_ALIAS_LIMITS,
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except yaml_rs.YAMLDecodeError as exc:
        raise _from_rs(str(exc), text) from None
    except (RecursionError, MemoryError, OverflowError, ValueError) as exc:
        raise ParseError(f"cannot read YAML: {exc}") from None
    if isinstance(data, list) and _is_multi_doc(text):
        raise ParseError("a record file holds one YAML document, this one holds several")
    return data


_DOC_START = re.compile(r"^---(?:[ \t]|$)", re.MULTILINE)


def _is_multi_doc(text: str) -> bool:
    """yaml_rs returns a list for several documents; tell that from a top-level list."""
    starts = [m.start() for m in _DOC_START.finditer(text)]
    if not starts:
        return False
    before = [ln for ln in text[: starts[0]].splitlines() if ln.strip() and ln[0] != "#"]
    return len(starts) > 1 or bool(before)


def _from_rs(message: str, text: str) -> ParseError:
    position = _RS_POSITION.search(message)
    head = _RS_DETAIL.sub("", message).strip()
    reason = message.rsplit("\n", 1)[-1].strip() if "\n" in message else head
    if position:
        line, column = int(position.group(1)), int(position.group(2))
        return ParseError(reason, line, column)
    if head.startswith("duplicate mapping key"):
        return ParseError(head, *_find_duplicate_key(text))
    if "alias" in head:
        return ParseError(f"too many alias expansions (a YAML alias bomb?): {head}")
    return ParseError(head)


def _find_duplicate_key(text: str) -> tuple[int | None, int | None]:
    """Position of the second occurrence of a duplicated key, from PyYAML's nodes."""
    try:
        root = compose(text)
    except Exception:
        return None, None
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return key.start_mark.line + 1, key.start_mark.column + 1
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None, None


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader reading YAML 1.2's core schema."""


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    return int(value, 0) if value.startswith("0x") else int(value, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    value = str(loader.construct_scalar(node)).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
# A timestamp tag written explicitly still yields the string, never a date object.
_Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLoader.construct_yaml_str)


def parse_reference(text: str) -> Any:
    """The reference path: PyYAML reading YAML 1.2's core schema."""
    try:
        return yaml.load(text, Loader=_Yaml12Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ParseError(str(exc.problem or exc), line, column) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ParseError(str(exc)) from None


def compose(text: str) -> yaml.Node | None:
    """PyYAML's node tree (with marks) of a one-document file."""
    return yaml.compose(text, Loader=_SafeLoader)


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
