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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml_rs

from crmfiles import lazy_module

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
    if _needs_reference(text):
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


# What yaml_rs reads unsafely or unlike YAML 1.2, each rare in a record: characters
# YAML forbids (it cuts a string at NUL) and tabs (it refuses `key:<tab>value`,
# accepts tab indentation); tags (it ignores most, builds a set from !!set);
# directives; explicit keys; surrogate escapes; numbers YAML 1.2 reads as strings
# (1_000, _1, 0b10, 0X1F, +0x1F); an empty block scalar at the end ("\n" for "");
# nesting that may pass MAX_DEPTH (it overflows the C stack some 10,000 block levels
# down); integers that may pass MAX_INT_DIGITS (it reads them); empty keys; anchor
# names libyaml refuses, or defined twice; a document end marker; a lone CR.  Each
# test is a substring search or a regex with a literal prefix: a few microseconds a
# file.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# the ASCII characters YAML allows, except tab
_ASCII_OK = bytes([10, 13, *range(32, 127)])
_TAG = re.compile(r"(?:^|[\s\[\]{},])!", re.MULTILINE)
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)
_EXPLICIT_KEY = re.compile(r"^[ -]*\?(?: |$)", re.MULTILINE)
_RS_NUMBER = re.compile(r"_[0-9_.eE+\-\s,\]}]|_$", re.MULTILINE)
# "\ud83d\ude9c": yaml_rs joins the pair, libyaml refuses a surrogate code point
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")
_RADIX = re.compile(r"0[bBoOxX]")
_RS_RADIX = re.compile(r"(?<![\w.])[-+]?0[bBoOxX]")
_DEEP = re.compile(r"^[ ?:-]{24,}", re.MULTILINE)
_EMPTY_BLOCK_AT_END = re.compile(r"(?:^|[ :?-])[|>][-+0-9]*(?: +#.*)?$")
_MAX_FLOW_OPENERS = 24  # flow nesting deeper than this may pass MAX_DEPTH in yaml_rs
_SHORT = 8192  # a shorter text cannot nest deep enough to hurt yaml_rs
# a run of digits that may be an integer past MAX_INT_DIGITS (3,573 hex digits are
# 4,301 decimal ones); only a run's first character may start a match: linear time
_LONG_DIGITS = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{3500}")
# an empty key (`: x`, `- : x`) or a plain scalar that starts with `:` in a flow
# collection (`[:x]`): yaml_rs reads a null key or ':x', libyaml refuses both.  The
# pattern starts with its literal `:` (the lookbehinds come after), so it is fast.
_EMPTY_KEY = re.compile(r":(?:(?<![^\s\[{,]:)(?![^\s,\[\]{}])|(?<=[\[{,]:)|(?<=[\[{,][ \t]:))")
# an anchor or alias whose name libyaml would not read (`&a.b`, `&:`), and a
# document end marker (yaml_rs reads on after it, even a second document)
_ODD_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*](?=\S)(?![A-Za-z0-9_-]+(?:[\s,\]}]|$))", re.MULTILINE)
_DOC_END = re.compile(r"^\.\.\.(?:[ \t]|$)", re.MULTILINE)
# an anchor defined twice (libyaml refuses it) and a CR that ends a line alone
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&([\w-]+)", re.MULTILINE)
_LONE_CR = re.compile(r"\r(?!\n)")


def _needs_reference(text: str) -> bool:
    """Whether ``text`` holds something that only the reference path reads right."""
    if text.isascii():
        if text.encode("ascii").translate(None, _ASCII_OK):
            return True
    elif "\t" in text or _CONTROL.search(text):
        return True
    if ("!" in text and _TAG.search(text)) or ("%" in text and _DIRECTIVE.search(text)):
        return True
    if ("?" in text and _EXPLICIT_KEY.search(text)) or _RS_NUMBER.search(text):
        return True
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        return True
    if (_RADIX.search(text) and _RS_RADIX.search(text)) or _flow_may_nest_deep(text):
        return True
    if ("        " in text or "- - " in text or len(text) > _SHORT) and _DEEP.search(text):
        return True
    if len(text) >= 3500 and _LONG_DIGITS.search(text):
        return True
    if _EMPTY_KEY.search(text):
        return True
    if ("&" in text or "*" in text) and _ODD_ANCHOR.search(text):
        return True
    if "&" in text and _twice(_ANCHOR.findall(text)):
        return True
    if "\r" in text and _LONE_CR.search(text):
        return True
    if "..." in text and _DOC_END.search(text):
        return True
    last = text.rstrip().rpartition("\n")[2]
    return ("|" in last or ">" in last) and bool(_EMPTY_BLOCK_AT_END.search(last))


def _twice(names: list[str]) -> bool:
    return len(names) != len(set(names))


_QUOTE_START = re.compile(r"(?:^|[\s\[{,:?])[\"']", re.MULTILINE)
_COMMENT = re.compile(r"(?:^|(?<=\s))#[^\n]*", re.MULTILINE)
_FLOW_BRACKET = re.compile(r"[\[\]{}]")


def _flow_may_nest_deep(text: str) -> bool:
    """Whether flow collections may nest more than ``_MAX_FLOW_OPENERS`` deep: an
    upper bound on the depth, from the brackets.  With no quoted scalar in the text
    (none starts where a token can) and comments dropped, every ``]``/``}`` inside a
    flow collection closes one (a plain scalar there cannot hold one), and one
    outside any flow collection is counted at depth 0 at worst: so the running count,
    never below 0, is never less than the true depth.  A quoted scalar could hide a
    closing bracket: then every opener counts, as if all were nested."""
    if text.count("[") + text.count("{") <= _MAX_FLOW_OPENERS:
        return False
    if _QUOTE_START.search(text):
        return True
    depth = 0
    for bracket in _FLOW_BRACKET.findall(_COMMENT.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > _MAX_FLOW_OPENERS:
                return True
        elif depth:
            depth -= 1
    return False


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
    if _needs_reference(text):
        _screen(text)  # libyaml's composer recurses in C: refuse what is too deep
    return yaml.compose(text, Loader=_safe_loader())


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
