"""The packaged JSON Schemas, their compiled validators, and the errors they explain.

Two validators per schema: ``jsonschema_rs`` (compiled, format checks on) decides
validity on the hot path; Python's ``jsonschema`` explains the few invalid records
(every error, with the best match of an ``anyOf``/``oneOf``).  Tests hold the two to
agreeing.  Reference checks are derived from the schemas' ``x-ref`` annotations
(:mod:`crmfiles.schema_refs`), so a reference is declared once, in the schema, and
never again in a rule.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs


def data_dir(name: str) -> Path:
    """A data folder shipped in the wheel (``schema``, ``example-repo``, ...), or the
    project's top-level folder when running from a source checkout."""
    packaged = Path(__file__).resolve().parent / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


def schema_dir() -> Path:
    return data_dir("schema")


@cache
def all_schemas() -> dict[str, dict[str, Any]]:
    """Schema name (``opportunity``, ``stages``, ``crm``, ``common``) -> schema."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().glob("*.schema.json")):
        out[path.name.removesuffix(".schema.json")] = json.loads(path.read_text("utf-8"))
    return out


@cache
def placed_schemas() -> dict[str, dict[str, Any]]:
    """The schemas with their file's URI as ``$id``, for crm's own validators.

    The files carry no ``$id`` and their ``$ref``s are file names
    (``common.schema.json#/$defs/id``), so check-jsonschema, yaml-language-server and
    jsonschema all resolve them against the folder the file sits in, offline.  crm
    does the same: each schema is placed at its file in the packaged folder, and the
    registry holds them all, so nothing is ever read or fetched while validating."""
    return {
        name: {"$id": (schema_dir() / f"{name}.schema.json").as_uri(), **schema}
        for name, schema in all_schemas().items()
    }


@cache
def _rs_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(s["$id"], s) for s in placed_schemas().values()])


@cache
def fast_validator(name: str) -> Any:
    return jsonschema_rs.validator_for(
        placed_schemas()[name], registry=_rs_registry(), validate_formats=True
    )


@cache
def reference_validator(name: str) -> Any:
    """Python's jsonschema, held to what JSON Schema means where it is lax by default:
    ``$`` ends the string (ECMA-262, not before a final newline as in Python), a
    number is finite (YAML's .inf is no JSON number), and the formats we use are
    checked (its ``email`` only looks for an "@"; ``date-time`` and ``uri`` need
    packages we do not ship)."""
    import jsonschema
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in placed_schemas().values()
    )
    base = jsonschema.Draft202012Validator
    cls = jsonschema.validators.extend(
        base,
        validators={"pattern": _pattern_keyword},
        type_checker=base.TYPE_CHECKER.redefine("number", _is_json_number),
    )
    return cls(placed_schemas()[name], registry=registry, format_checker=_format_checker())


# --- the reference validator's reading of patterns, numbers and formats -------------


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not _ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    """``$`` outside a character class matches only at the very end, as in ECMA-262."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _is_json_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return not isinstance(instance, float) or math.isfinite(instance)


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*|\"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*\"")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:"  # scheme
    rf"(?://(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"  # userinfo
    rf"(\[[^\]]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)(?::[0-9]*)?"  # host, port
    rf"(?:/{_PCHAR}*)*"  # path after an authority
    rf"|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"  # or a path without one
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"  # query, fragment
)


def _format_checker() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker([])
    checker.checks("date")(_is_date)
    checker.checks("email")(_is_email)
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return checker


def _is_email(value: object) -> bool:
    """RFC 5321: a dot-atom or quoted local part, a host name or an address literal."""
    if not isinstance(value, str):
        return True
    local, at, domain = value.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL.fullmatch(local):
        return False
    if domain.startswith("[") and domain.endswith("]"):
        import ipaddress

        literal = domain[1:-1]
        try:
            if literal.startswith("IPv6:"):
                ipaddress.IPv6Address(literal[5:])
            else:
                ipaddress.IPv4Address(literal)
        except ValueError:
            return False
        return True
    return len(domain) <= 253 and bool(_HOST_NAME.fullmatch(domain))


def _is_date(value: object) -> bool:
    """RFC 3339's full-date; year 0000 too (Python's dates start at year 1; 0000 is a
    leap year like 2000)."""
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat("2000" + value[4:] if value.startswith("0000") else value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    """RFC 3339, a leap second only at 23:59:60 UTC."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if not match:
        return False
    day, hour, minute, second, _fraction, offset = match.groups()
    east = 0 if offset in ("Z", "z") else int(offset[1:3]) * 60 + int(offset[4:])
    if not _is_date(day) or offset[1:3] > "23" or offset[4:] > "59":
        return False
    if hour > "23" or minute > "59" or second > "60":
        return False
    if second == "60":  # a leap second: 23:59:60 in UTC
        utc_minutes = int(hour) * 60 + int(minute) - (-east if offset[0] == "-" else east)
        return utc_minutes % 1440 == 23 * 60 + 59
    return True


def _is_uri(value: object) -> bool:
    """RFC 3986's URI syntax (ASCII only: an IRI is no URI)."""
    if not isinstance(value, str):
        return True
    match = _URI.fullmatch(value)
    if not match:
        return False
    host = match.group(1)
    if host and host.startswith("["):
        import ipaddress

        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return host[1:2] in ("v", "V")  # an IPvFuture literal
    return True


@dataclass(frozen=True, slots=True)
class SchemaError:
    pointer: tuple[str | int, ...]
    message: str
    at_key: bool = False


def explain(name: str, instance: Any) -> list[SchemaError]:
    """Every schema error of an invalid instance, as the reference validator sees it."""
    from jsonschema.exceptions import best_match

    validator = reference_validator(name)
    errors: list[SchemaError] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        if error.context:
            error = best_match(error.context)
        pointer = tuple(error.absolute_path)
        at_key = False
        message = error.message
        if error.validator == "additionalProperties":
            extra = _extra_keys(error.instance, error.schema)
            for key in extra:
                errors.append(SchemaError((*pointer, key), f"unknown field '{key}'", True))
            if extra:
                continue
        elif error.validator == "required":
            message = f"missing required field {message.split(' is a required')[0]}"
        errors.append(SchemaError(pointer, message, at_key))
    if not errors:
        # the two validators disagree (a format corner case): never drop the finding
        errors = [
            SchemaError(tuple(error.instance_path), error.message)
            for error in fast_validator(name).iter_errors(instance)
        ]
    return errors


def _extra_keys(instance: Any, schema: dict[str, Any]) -> list[str]:
    if not isinstance(instance, dict):
        return []
    props = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [
        k for k in instance if k not in props and not any(re.search(p, str(k)) for p in patterns)
    ]
