"""``crm new``: a record from options (one per schema field that a command line can
say), ``--set KEY=VALUE`` or ``--edit``; created through :mod:`crmfiles.ops`.

Bad input (a field the type lacks, a value that is not a number) is a message and
exit 2, like every usage error.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from crmfiles.cli.writes import add_common, commit_flags, perform
from crmfiles.errors import CrmError

TYPES = ("opportunity", "partner", "contact", "lead", "interaction", "task")


@dataclass(frozen=True)
class FieldOption:
    field: str
    kinds: dict[str, str]  # folder -> "str" | "int" | "number" | "bool" | "list" | "link"
    repeat: bool


def _kind_of(node: dict[str, Any], defs: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and "#/$defs/" in ref:
        return _kind_of(defs.get(ref.rpartition("/")[2], {}), defs)
    kind = node.get("type")
    if kind == "array":
        items = node.get("items", {})
        return "list" if _kind_of(items, defs) in ("str", "int", "number") else None
    if kind == "object":
        props = node.get("properties", {})
        return "link" if set(node.get("required", [])) == {"type", "id"} and props else None
    return {"string": "str", "integer": "int", "number": "number", "boolean": "bool"}.get(str(kind))


@cache
def field_options() -> dict[str, FieldOption]:
    """``crm new``'s options, from the schemas of the record types it creates: one per
    top-level field that a command line can say (``--tag`` repeats for ``tags``)."""
    from crmfiles.records import RECORD_FOLDERS
    from crmfiles.schema import all_schemas

    schemas = all_schemas()
    defs = schemas["common"].get("$defs", {})
    folders = {name: folder for folder, name in RECORD_FOLDERS.items()}
    out: dict[str, FieldOption] = {}
    for record_type in TYPES:
        folder = folders[record_type]
        for name, node in schemas[record_type].get("properties", {}).items():
            kind = _kind_of(node, defs)
            if kind is None:
                continue
            option = name.removesuffix("s") if kind == "list" else name
            option = option.replace("_", "-")
            known = out.get(option)
            if known is not None and (known.field != name or known.repeat != (kind == "list")):
                continue  # the same option meaning two things: --set says it
            kinds = dict(known.kinds) if known else {}
            kinds[folder] = kind
            out[option] = FieldOption(name, kinds, kind == "list")
    return out


def add_new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", choices=TYPES, help="the type of record")
    parser.add_argument(
        "--edit", action="store_true", help="open $EDITOR on a filled template; save to create"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any field, VALUE read as YAML (insight.problem=..., lines=[...]); repeatable",
    )
    parser.add_argument(
        "--from-interaction",
        metavar="ID",
        help="an opportunity from this interaction: its partner, contacts and subject "
        "(as the name), and origin pointing at it",
    )
    fields = parser.add_argument_group("fields (those that fit the type)")
    for option, spec in sorted(field_options().items()):
        types = ", ".join(sorted(spec.kinds))
        fields.add_argument(
            f"--{option}",
            dest=f"field_{option.replace('-', '_')}",
            action="append" if spec.repeat else "store",
            metavar="VALUE",
            help=f"{spec.field} ({types})" + ("; repeatable" if spec.repeat else ""),
        )
    add_common(parser)


def _convert(option: str, kind: str, value: Any) -> Any:
    try:
        if kind == "int":
            return int(value)
        if kind == "number":
            number = Decimal(value)
            if not number.is_finite():
                raise InvalidOperation
            return number
    except (ValueError, InvalidOperation):
        raise CrmError(f"--{option} takes a number, not '{value}'") from None
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            raise CrmError(f"--{option} is true or false, not '{value}'")
        return value.lower() == "true"
    if kind == "link":
        record_type, slash, record_id = value.partition("/")
        if not slash or not record_id:
            raise CrmError(f"--{option} is TYPE/ID (e.g. opportunity/acme-forklifts)")
        return {"type": record_type, "id": record_id}
    return value


def _set_value(fields: dict[str, Any], item: str) -> None:
    from crmfiles.records.yamlio import ParseError, parse

    key, equals, raw = item.partition("=")
    if not equals or not key:
        raise CrmError(f"--set takes KEY=VALUE, not '{item}'")
    try:
        value = parse(raw) if raw.strip() else None
    except ParseError as err:
        raise CrmError(f"--set {key}: {err.message}") from None
    *parents, last = key.split(".")
    target = fields
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise CrmError(f"--set {key}: '{part}' is not a mapping")
    target[last] = value


def new_fields(args: argparse.Namespace, folder: str) -> dict[str, Any]:
    record_type = args.type
    fields: dict[str, Any] = {}
    for option, spec in field_options().items():
        value = getattr(args, f"field_{option.replace('-', '_')}", None)
        if value is None:
            continue
        if folder == "tasks" and option == "opportunity":
            fields["subject"] = {"type": "opportunity", "id": value}  # a task about it
            continue
        kind = spec.kinds.get(folder)
        if kind is None:
            raise CrmError(f"--{option} is not a field of a {record_type}")
        if spec.repeat:
            items = [v.strip() for raw in value for v in raw.split(",") if v.strip()]
            fields[spec.field] = items
        else:
            fields[spec.field] = _convert(option, kind, value)
    if getattr(args, "from_interaction", None):
        if folder != "opportunities":
            raise CrmError("--from-interaction makes an opportunity: crm new opportunity")
        fields["origin"] = {"type": "interaction", "id": args.from_interaction}
    for item in args.set:
        _set_value(fields, item)
    return fields


def run_new(args: argparse.Namespace) -> int:
    from crmfiles.ops.new import folder_of
    from crmfiles.ops.registry import OPERATIONS

    create = OPERATIONS["create"]

    folder = folder_of(args.type)
    fields = new_fields(args, folder)
    if args.edit:
        from crmfiles.cli.editor import edit_new

        return edit_new(args, folder, fields)
    return perform(args, lambda root: create(root, folder, fields, **commit_flags(args)))
