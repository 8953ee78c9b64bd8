"""File-level checks: bytes, YAML, shape, file name and id, schema.

These run once per file, before any rule that reads a record's meaning.  Each
problem is a finding and the file is marked not ``ok``; the run goes on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from crmfiles import controls, lazy_module
from crmfiles.diagnostics import Finding
from crmfiles.records import RECORD_FOLDERS, LoadedFile, Place, is_valid_id
from crmfiles.records.sources import RawFile
from crmfiles.records.yamlio import MAX_DEPTH, ParseError, compose, parse
from crmfiles.rules.registry import Check
from crmfiles.schema import explain, fast_validator

if TYPE_CHECKING:
    import yaml
else:  # loaded when first used
    yaml = lazy_module("yaml")

_CONFLICT = re.compile(rb"^(?:<<<<<<<|=======|>>>>>>>)(?: |$)", re.MULTILINE)
_AMBIGUOUS = re.compile(
    r"^(?:[^#'\"\n]*?:|[ \t]*-)[ \t]+(yes|no|on|off|y|n)[ \t]*(?:#[^\r\n]*)?\r?$",
    re.MULTILINE | re.IGNORECASE,
)

_AMBIGUOUS_WORDS = ("yes", "no", "on", "off", "y", "n")
# substring tests are ~10x cheaper than the regex: it runs only where one hits
_AMBIGUOUS_HINTS = tuple(f" {word}\n" for word in _AMBIGUOUS_WORDS)
_AMBIGUOUS_ENDS = tuple(f" {word}" for word in _AMBIGUOUS_WORDS)


def _maybe_ambiguous(text: str) -> bool:
    """A cheap filter (the regex costs ~15 us a file): such a value ends its line."""
    lowered = text.lower().replace("\r", "")
    if " #" in lowered:  # a comment may follow the value: let the regex decide
        return True
    return any(hint in lowered for hint in _AMBIGUOUS_HINTS) or lowered.rstrip().endswith(
        _AMBIGUOUS_ENDS
    )


#: the rule of a file the sources would not read, by what kind of refusal it was
REFUSED_RULE = {"unsafe": "unsafe-path", "size": "too-large", "unmerged": "conflict-marker"}


def schema_name(place: Place) -> str:
    if place.kind == "record":
        return RECORD_FOLDERS[place.name]
    return place.name  # a catalog's schema is named after it; crm.yaml's is "crm"


def load_file(raw: RawFile, place: Place) -> LoadedFile:
    f = LoadedFile(path=raw.path, place=place, blob=raw.blob)
    add = f.findings.append
    if raw.refusal is not None or raw.content is None:
        add(
            Finding(
                REFUSED_RULE.get(raw.refused, "unsafe-path"),
                raw.path,
                raw.refusal or "cannot read the file",
                line=1,
                column=1,
                record=place.id,
            )
        )
        return f
    content = raw.content
    if place.kind == "record":
        _check_file_name(f)
    elif place.kind == "catalog" and not place.ext_ok:
        # read, it would stand in for (or shadow) catalogs/<name>.yaml
        add(
            Finding(
                "file-name",
                raw.path,
                "catalog files end in .yaml, not .yml: this one is not read",
                line=1,
                column=1,
                record=place.id,
                hint=f"rename it to {place.name}.yaml",
            )
        )
        return f
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        line_start = content.rfind(b"\n", 0, exc.start) + 1
        column = len(content[line_start : exc.start].decode("utf-8", "replace")) + 1
        add(
            Finding(
                "encoding",
                raw.path,
                f"invalid UTF-8 byte 0x{content[exc.start]:02x}",
                line=line,
                column=column,
                hint="save the file as UTF-8",
                record=place.id,
            )
        )
        return f
    f.text = text = text.removeprefix("\ufeff")
    if b"<<<<<<<" in content or b">>>>>>>" in content:
        markers = list(_CONFLICT.finditer(content))
        if markers:
            starts = [m for m in markers if m.group().startswith(b"<<<<<<<")]
            # a file whose <<<<<<< line was deleted still holds the rest of a conflict
            for match in starts or markers[:1]:
                line = content.count(b"\n", 0, match.start()) + 1
                add(
                    Finding(
                        "conflict-marker",
                        raw.path,
                        "unresolved merge conflict",
                        line=line,
                        column=1,
                        end_line=line,
                        end_column=8,
                        record=place.id,
                        hint="keep one side, delete the <<<<<<< ======= >>>>>>> lines",
                    )
                )
            return f  # the YAML error would only repeat the conflict
    try:
        data = parse(text)
    except ParseError as err:
        add(
            Finding(
                "yaml-syntax",
                raw.path,
                err.message,
                line=err.line or 1,
                column=err.column or 1,
                record=place.id,
            )
        )
        return f
    f.data = data
    expected = list if place.kind == "catalog" else dict
    if data is None:
        what = (
            "a catalog is a YAML list of entries"
            if expected is list
            else "a record is a YAML mapping of fields"
        )
        add(
            Finding(
                "schema", raw.path, f"the file is empty; {what}", line=1, column=1, record=place.id
            )
        )
        return f
    if not isinstance(data, expected):
        what = "list of entries" if expected is list else "mapping of fields"
        add(
            Finding(
                "schema",
                raw.path,
                f"the file holds a {_yaml_type(data)}, not a {what}",
                line=1,
                column=1,
                record=place.id,
            )
        )
        return f
    if _maybe_ambiguous(text):
        found_all = list(_AMBIGUOUS.finditer(text))
        plain = _plain_scalar_starts(text) if found_all else None
        for found in found_all:
            line = text.count("\n", 0, found.start(1)) + 1
            column = found.start(1) - (text.rfind("\n", 0, found.start(1)) + 1) + 1
            if plain is not None and (line, column) not in plain:
                continue  # a line of a block scalar or a multi-line string
            value = found.group(1)
            add(
                Finding(
                    "yaml-ambiguous",
                    raw.path,
                    f"'{value}' is the string '{value}' here, but a boolean to YAML 1.1 tools",
                    line=line,
                    column=column,
                    end_line=line,
                    end_column=column + len(value),
                    record=place.id,
                    hint=f"write '{value}' in quotes, or true/false if a boolean is meant",
                )
            )
    if "\\" in text:  # (a raw control character is a YAML syntax error: only an escape
        _check_controls(f, data)  # in a double-quoted string makes one)
    f.ok = _check_schema(f, data)
    if place.kind == "record" and isinstance(data, dict):
        _check_id(f, data)
    return f


def _check_controls(f: LoadedFile, data: Any) -> None:
    """A control character in a value (a double-quoted escape is the usual way in):
    renderers escape it, but no record should hold one."""
    for pointer, value in controls.find(data):
        shown = controls.escape(value)
        f.findings.append(
            Finding(
                "control-character",
                f.path,
                f"control character in {shown[:60]!r}" + ("..." if len(shown) > 60 else ""),
                pointer=pointer,
                record=f.place.id,
                hint="remove it; a value that drives the terminal (title, clear screen, "
                "colours) is never data",
            )
        )


def _plain_scalar_starts(text: str) -> set[tuple[int, int]] | None:
    """Where plain scalars start (1-based), or None when PyYAML cannot tell."""
    try:
        root = compose(text)
    except Exception:
        return None
    starts: set[tuple[int, int]] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            if not node.style:
                starts.add((node.start_mark.line + 1, node.start_mark.column + 1))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return starts


def _yaml_type(data: Any) -> str:
    return {list: "list", dict: "mapping", str: "string", bool: "boolean"}.get(
        type(data), "number" if isinstance(data, (int, float)) else type(data).__name__
    )


def _check_file_name(f: LoadedFile) -> None:
    place = f.place
    if not place.ext_ok:
        f.findings.append(
            Finding(
                "file-name",
                f.path,
                "record files end in .yaml, not .yml",
                line=1,
                column=1,
                record=place.id,
                hint=f"rename it to {place.id}.yaml",
            )
        )
    elif not is_valid_id(place.id):
        f.findings.append(
            Finding(
                "file-name",
                f.path,
                f"{place.id!r} is not a valid record id",
                line=1,
                column=1,
                record=place.id,
                hint="ids are lower case letters, digits, '.', '_' and '-', start with a letter "
                "or digit, at most 80 characters, and never contain '..'",
            )
        )


def _check_id(f: LoadedFile, data: dict[str, Any]) -> None:
    record_id = data.get("id")
    if isinstance(record_id, str) and record_id != f.place.id and is_valid_id(f.place.id):
        f.findings.append(
            Finding(
                "id-mismatch",
                f.path,
                f"id {record_id!r} differs from the file name '{f.place.id}.yaml'",
                pointer=("id",),
                record=f.place.id,
                hint=f"set id: {f.place.id}"
                + (f", or rename the file to {record_id}.yaml" if is_valid_id(record_id) else ""),
            )
        )


def _check_schema(f: LoadedFile, data: Any) -> bool:
    name = schema_name(f.place)
    try:
        if fast_validator(name).is_valid(data):
            return True
    except ValueError as exc:  # not JSON-shaped: a non-string key, a set, too deep
        message, line, column = _shape_problem(data, str(exc), f.text)
        f.findings.append(
            Finding("schema", f.path, message, line=line, column=column, record=f.place.id)
        )
        return False
    for error in explain(name, data):
        f.findings.append(
            Finding(
                "schema",
                f.path,
                error.message,
                pointer=error.pointer,
                at_key=error.at_key,
                record=f.place.id,
            )
        )
    return False


def _shape_problem(data: Any, fallback: str, text: str | None) -> tuple[str, int, int]:
    """What makes ``data`` no JSON document, and where: data and PyYAML's nodes are
    walked side by side (the node of a non-string key is not found by its value)."""
    try:
        root = compose(text) if text is not None else None
    except Exception:
        root = None
    stack: list[tuple[Any, Any, int]] = [(data, root, 0)]
    while stack:
        node, yaml_node, depth = stack.pop()
        mark = yaml_node.start_mark if isinstance(yaml_node, yaml.Node) else None
        if depth > MAX_DEPTH:
            return _at(f"nested more than {MAX_DEPTH} levels deep", mark)
        if isinstance(node, dict):
            pairs = yaml_node.value if isinstance(yaml_node, yaml.MappingNode) else []
            if len(pairs) != len(node):
                pairs = [(None, None)] * len(node)
            for (key, value), (key_node, value_node) in zip(node.items(), pairs, strict=True):
                if not isinstance(key, str):
                    key_mark = key_node.start_mark if key_node is not None else mark
                    return _at(f"mapping key {key!r} is not a string", key_mark)
                stack.append((value, value_node, depth + 1))
        elif isinstance(node, list):
            items = yaml_node.value if isinstance(yaml_node, yaml.SequenceNode) else []
            if len(items) != len(node):
                items = [None] * len(node)
            stack.extend(
                (item, item_node, depth + 1) for item, item_node in zip(node, items, strict=True)
            )
        elif isinstance(node, (set, frozenset, bytes, tuple)):
            return _at(f"a {type(node).__name__} value has no place in a record", mark)
    return _at(f"cannot be checked: {fallback}", None)


def _at(message: str, mark: Any) -> tuple[str, int, int]:
    return (message, mark.line + 1, mark.column + 1) if mark is not None else (message, 1, 1)


CHECKS = (
    Check(
        load_file,
        (
            "encoding",
            "yaml-syntax",
            "conflict-marker",
            "yaml-ambiguous",
            "unsafe-path",
            "file-name",
            "too-large",
            "control-character",
            "schema",
            "id-mismatch",
        ),
        "file",
    ),
)
