"""File-level checks: bytes, YAML, shape, file name and id, schema.

These run once per file, before any rule that reads a record's meaning.  Each
problem is a finding and the file is marked not ``ok``; the run goes on.
"""

from __future__ import annotations

import re
from typing import Any

from crmfiles.diagnostics import Finding
from crmfiles.records import RECORD_FOLDERS, LoadedFile, Place, is_valid_id
from crmfiles.records.sources import RawFile
from crmfiles.records.yamlio import MAX_DEPTH, ParseError, parse
from crmfiles.schema import explain, fast_validator

_CONFLICT = re.compile(rb"^(?:<<<<<<<|=======|>>>>>>>)(?: |$)", re.MULTILINE)
_AMBIGUOUS = re.compile(
    r"^(?:[^#'\"\n]*?:|[ \t]*-)[ \t]+(yes|no|on|off|y|n)[ \t]*(?:#.*)?$",
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


def schema_name(place: Place) -> str:
    if place.kind == "record":
        return RECORD_FOLDERS[place.name]
    return place.name  # a catalog's schema is named after it; crm.yaml's is "crm"


def load_file(raw: RawFile, place: Place) -> LoadedFile:
    f = LoadedFile(path=raw.path, place=place, blob=raw.blob)
    add = f.findings.append
    if raw.refusal is not None or raw.content is None:
        rule = "too-large" if "limit" in (raw.refusal or "") else "unsafe-path"
        if raw.refusal and raw.refusal.startswith("unmerged"):
            rule = "conflict-marker"
        add(
            Finding(
                rule,
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
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
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
            for match in markers:
                if match.group().startswith(b"<<<<<<<"):
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
        for found in _AMBIGUOUS.finditer(text):
            line = text.count("\n", 0, found.start(1)) + 1
            column = found.start(1) - (text.rfind("\n", 0, found.start(1)) + 1) + 1
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
    f.ok = _check_schema(f, data)
    if place.kind == "record" and isinstance(data, dict):
        _check_id(f, data)
    return f


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
                f"'{place.id}' is not a valid record id",
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
                f"id '{record_id}' differs from the file name '{f.place.id}.yaml'",
                pointer=("id",),
                record=f.place.id,
                hint=f"set id: {f.place.id}, or rename the file to {record_id}.yaml",
            )
        )


def _check_schema(f: LoadedFile, data: Any) -> bool:
    name = schema_name(f.place)
    try:
        if fast_validator(name).is_valid(data):
            return True
    except ValueError as exc:  # not JSON-shaped: a non-string key, a set, too deep
        f.findings.append(
            Finding(
                "schema",
                f.path,
                _shape_problem(data, str(exc)),
                line=1,
                column=1,
                record=f.place.id,
            )
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


def _shape_problem(data: Any, fallback: str) -> str:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return f"mapping key {key!r} is not a string"
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, (set, frozenset, bytes, tuple)):
            return f"a {type(node).__name__} value has no place in a record"
    return f"cannot be checked: {fallback}"
