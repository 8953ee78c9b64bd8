"""YAML in: one fast parser for the bulk, PyYAML for positions and as the reference.

Both read YAML 1.2's core schema, the way crmfiles promises to read records: no tag
constructs a Python object, timestamps stay ISO strings, only ``true``/``false`` are
booleans (``on``/``yes`` stay strings; the ``yaml-ambiguous`` rule flags them).

- :func:`parse` is the hot path: ``yaml_rs`` (Rust, ~10x libyaml), with limits on
  alias expansion so an alias bomb is refused in well under a second.  The few texts
  that yaml_rs reads unsafely or differently from YAML 1.2's core schema (tags,
  control characters, ``1_000``/``0b10`` numbers, deep nesting) take the reference
  path instead, so both paths give one answer.
- :func:`parse_reference` is PyYAML (libyaml's scanner, Python resolvers) configured
  to the same schema: tests hold the two to agreeing on every example and fuzz case.
- :func:`compose` returns PyYAML's node tree with start and end marks, used only for
  the few files that have a finding, to put a line and column on it.

Two parts live apart: which texts the fast path must hand to the reference path (a
table of what yaml_rs reads unlike YAML 1.2) in :mod:`crmfiles.records.yamlroute`,
and where a key or value sits in a file's text (spans for diagnostics, a record's
top-level lines) in :mod:`crmfiles.records.yamlspans`.
Both this module and the routing table feed the facts cache's key
(:func:`crmfiles.records.facts_file.definition`): they decide what a record reads as.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml_rs

from crmfiles import lazy_module
from crmfiles.records.yamlroute import needs_reference

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

MAX_DEPTH = 64
MAX_ALIAS_EXPANSIONS = 10_000
# Python writes no integer longer than this in decimal (sys.get_int_max_str_digits):
# a longer one would turn every message, JSON report or export that shows it into an
# internal error, so the file is refused where it is read
MAX_INT_DIGITS = 4300
_INT_LIMIT = 10**MAX_INT_DIGITS


@cache
def _safe_loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    if needs_reference(text):
        return parse_reference(text)
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=_ALIAS_LIMITS,
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except yaml_rs.YAMLDecodeError as exc:
        error = _from_rs(str(exc), text)
        if "alias" in error.message:
            raise error from None  # a bomb: never hand it to the slower path
        try:
            # yaml_rs refuses a little valid YAML (a quoted scalar continued on the next
            # line): the reference path decides, and its answer is the fast path's too
            return parse_reference(text)
        except ParseError:
            raise error from None
    except (RecursionError, MemoryError, OverflowError, ValueError) as exc:
        raise ParseError(f"cannot read YAML: {exc}") from None
    if isinstance(data, list):
        second = _second_document(text)
        if second is not None:
            raise ParseError(_MULTI_DOC, second, 1)
    elif isinstance(data, str):
        # a scalar document, rare in a record: yaml_rs reads lines at column 0 into a
        # block scalar at the root (`|` then `- x`), libyaml refuses them
        return parse_reference(text)
    return data


_MULTI_DOC = "a record file holds one YAML document, this one holds several"
_DOC_START = re.compile(r"^---(?:[ \t]|$)", re.MULTILINE)


def _second_document(text: str) -> int | None:
    """yaml_rs returns a list for several documents; tell that from a top-level list,
    and give the line where the second document starts."""
    starts = list(_DOC_START.finditer(text))
    if not starts:
        return None
    before = [ln for ln in text[: starts[0].start()].splitlines() if ln.strip() and ln[0] != "#"]
    second = starts[0] if before else starts[1] if len(starts) > 1 else None
    return None if second is None else text.count("\n", 0, second.start()) + 1


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
        try:
            _screen(text)  # the reference walk knows where the expansion runs over
        except ParseError as err:
            if err.line is not None:
                return err
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


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    digits = value.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        number = None  # int() refuses a decimal this long; hex and octal are counted
    elif digits.startswith("0o"):
        number = int(value.replace("0o", "", 1), 8)
    else:
        number = int(value, 0) if digits.startswith("0x") else int(value, 10)
    if number is None or abs(number) >= _INT_LIMIT:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of more than {MAX_INT_DIGITS} digits", node.start_mark
        )
    return number


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    value = str(loader.construct_scalar(node)).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


def _construct_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    if len(mapping) != len(node.value):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate mapping key: {key!r}", key_node.start_mark
                )
            seen.add(key)
    return mapping


@cache
def _yaml12_loader() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader reading YAML 1.2's core schema."""

    class Yaml12Loader(_safe_loader()):  # type: ignore[misc]
        pass

    Yaml12Loader.yaml_implicit_resolvers = {}
    for tag, pattern, first in [
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
        Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))
    Yaml12Loader.construct_mapping = _construct_mapping
    Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
    Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
    return Yaml12Loader


def parse_reference(text: str) -> Any:
    """The reference path: PyYAML reading YAML 1.2's core schema, with the same
    limits as the fast path (one document, no tag but ``!!str``, no duplicate key,
    bounded depth and alias expansion)."""
    try:
        _screen(text)
        return yaml.load(text, Loader=_yaml12_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ParseError(str(exc.problem or exc), line, column) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"character U+{code:04X} is not allowed in YAML"
        raise ParseError(message, line, column) from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        raise ParseError(str(exc)) from None


def _screen(text: str) -> None:
    """Walk libyaml's events (iterative, so safe at any depth) before anything builds
    a tree: the checks a record's YAML must pass on either path."""
    depth = documents = expanded = 0
    sizes: dict[str, int] = {}  # anchor -> number of nodes it stands for
    open_: list[list[Any]] = []  # [anchor, nodes so far] per open collection
    for event in yaml.parse(text, Loader=_safe_loader()):
        size = 0
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _at(event, _MULTI_DOC)
        elif isinstance(event, yaml.CollectionStartEvent):
            _check_tag(event, allowed=())
            depth += 1
            if depth > MAX_DEPTH:
                raise _at(event, f"nested more than {MAX_DEPTH} levels deep")
            open_.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, size = open_.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            _check_tag(event, allowed=("tag:yaml.org,2002:str",))
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)
            expanded += size
            if expanded > MAX_ALIAS_EXPANSIONS * 10:
                raise _at(event, "too many alias expansions (a YAML alias bomb?)")
        if size and open_:
            open_[-1][1] += size


def _check_tag(event: yaml.NodeEvent, allowed: tuple[str, ...]) -> None:
    tag = getattr(event, "tag", None)
    if tag is not None and tag not in allowed:
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        raise _at(event, f"tag '{shown}' is not allowed: records are plain YAML")


def _at(event: yaml.Event, message: str) -> ParseError:
    mark = event.start_mark
    return ParseError(message, *((mark.line + 1, mark.column + 1) if mark else (None, None)))


def compose(text: str) -> yaml.Node | None:
    """PyYAML's node tree (with marks) of a one-document file."""
    if needs_reference(text):
        _screen(text)  # libyaml's composer recurses in C: refuse what is too deep
    return yaml.compose(text, Loader=_safe_loader())
