"""``crm new``, ``move``, ``close``, ``reopen``, ``duplicate``, ``qualify`` and
``disqualify``: parse, call :mod:`crmfiles.ops`, say in a line what happened.

A refusal prints the diagnostics as ``crm lint`` does and exits 1; bad input (an
unknown id, stage or reason) is a message and exit 2, like every usage error; git
refusing the commit (a hook, signing, a lock) is what git said and exit 3.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from crmfiles.config import find_root, use_color
from crmfiles.errors import CrmError

TYPES = ("opportunity", "partner", "contact", "lead", "interaction", "task")


# --- shared -------------------------------------------------------------------------


def add_common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--no-commit", action="store_true", help="write the change but do not commit it"
    )
    where.add_argument(
        "--branch",
        action="store_true",
        help="commit on a new branch crm/<id>-<stage> (ready for a pull request) and "
        "leave the work tree, index and HEAD as they are",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def _diagnostics_json(diagnostics: list[Any]) -> list[Any]:
    from crmfiles.diagnostics.formats import write_report

    buffer = io.StringIO()
    write_report(diagnostics, "json", buffer)
    return list(json.loads(buffer.getvalue())["diagnostics"])


def perform(args: argparse.Namespace, operation: Callable[[Path], Any]) -> int:
    """Run an operation; print its result or its refusal; the exit status."""
    from crmfiles.ops.result import CommitFailed, Refused

    root = find_root(explicit=args.repo)
    try:
        result = operation(root)
    except Refused as refused:
        return show_refusal(args, refused)
    except CommitFailed as failed:
        return show_failure(args, failed)
    return show_result(args, result)


def show_refusal(args: argparse.Namespace, refused: Any) -> int:
    """The diagnostics as ``crm lint`` prints them (stdout), the refusal (stderr); 1."""
    from crmfiles.diagnostics.formats import write_report

    if args.format == "json":
        json_out(
            {
                "version": 1,
                "ok": False,
                "error": refused.message,
                "diagnostics": _diagnostics_json(refused.diagnostics),
            }
        )
    elif refused.diagnostics:
        write_report(refused.diagnostics, "text", sys.stdout, color=use_color(sys.stdout))
    sys.stderr.write(f"crm: refused: {refused.message}\n")
    if refused.hint:
        sys.stderr.write(f"  hint: {refused.hint}\n")
    return 1


def show_failure(args: argparse.Namespace, failed: Any) -> int:
    """git refused the commit: what it said (stderr; with --format json, also stdout); 3."""
    from crmfiles.cli.main import report_git_failure
    from crmfiles.errors import EXIT_GIT

    if args.format == "json":
        json_out(
            {
                "version": 1,
                "ok": False,
                "error": failed.message,
                "git": failed.output,
                "diagnostics": [],
            }
        )
    report_git_failure(failed)
    return EXIT_GIT


def show_result(args: argparse.Namespace, result: Any) -> int:
    from crmfiles.diagnostics.formats import format_diagnostic

    if args.format == "json":
        json_out(
            {
                "version": 1,
                "ok": True,
                "id": result.id,
                "paths": result.paths,
                "created": result.created,
                "removed": result.removed,
                "commit": result.commit,
                "branch": result.branch,
                "message": result.message,
                "diagnostics": _diagnostics_json(result.diagnostics),
            }
        )
        return 0
    color = use_color(sys.stderr)
    for diagnostic in result.diagnostics:
        sys.stderr.write(format_diagnostic(diagnostic, color=color))
    sys.stdout.write(result.message + "\n")
    return 0


def json_out(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def commit_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {"commit": not args.no_commit, "branch": args.branch, "runtime": args.runtime}


# --- crm new ------------------------------------------------------------------------


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


# --- the pipeline -------------------------------------------------------------------


def add_move_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    parser.add_argument("stage", metavar="STAGE", help="the stage to move it to")
    parser.add_argument(
        "--probability",
        type=int,
        metavar="N",
        help="set the probability (default: the stage's, unless it was set by hand)",
    )
    add_common(parser)


def run_move(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    move = OPERATIONS["move"]

    return perform(
        args,
        lambda root: move(
            root, args.id, args.stage, probability=args.probability, **commit_flags(args)
        ),
    )


def add_close_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    outcome = parser.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--won", action="store_true", help="won: probability 100")
    outcome.add_argument("--lost", action="store_true", help="lost: probability 0, needs --reason")
    parser.add_argument("--reason", metavar="R", help="why it was lost (catalogs/loss-reasons)")
    parser.add_argument("--comment", metavar="C", help="more on why it was lost")
    parser.add_argument(
        "--keep-open",
        action="store_true",
        help="set won or lost but do not close it (closed records are read-only)",
    )
    add_common(parser)


def run_close(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    close = OPERATIONS["close"]

    if args.lost and not args.reason:
        raise CrmError("--lost needs --reason R", hint="the reasons are in catalogs/loss-reasons")
    return perform(
        args,
        lambda root: close(
            root,
            args.id,
            won=args.won,
            reason=args.reason,
            comment=args.comment,
            keep_open=args.keep_open,
            **commit_flags(args),
        ),
    )


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", choices=("partner", "contact"), help="what the two records are")
    parser.add_argument("keep", metavar="KEEP", help="the record that stays")
    parser.add_argument(
        "drop", metavar="DROP", help="its duplicate: merged into KEEP, then removed"
    )
    add_common(parser)


def run_merge(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    merge = OPERATIONS["merge"]

    return perform(
        args, lambda root: merge(root, args.type, args.keep, args.drop, **commit_flags(args))
    )


def add_reopen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    add_common(parser)


def run_reopen(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    reopen = OPERATIONS["reopen"]

    return perform(args, lambda root: reopen(root, args.id, **commit_flags(args)))


def add_duplicate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity to copy")
    parser.add_argument("--name", metavar="NEW", help="the new one's name (default: '... (copy)')")
    add_common(parser)


def run_duplicate(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    duplicate = OPERATIONS["duplicate"]

    return perform(
        args, lambda root: duplicate(root, args.id, name=args.name, **commit_flags(args))
    )


# --- leads --------------------------------------------------------------------------


def add_qualify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lead", metavar="LEAD", help="the lead")
    parser.add_argument(
        "--partner", metavar="ID", help="an existing partner (default: a new one from the lead)"
    )
    parser.add_argument("--kind", metavar="KIND", help="the opportunity's kind")
    add_common(parser)


def run_qualify(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    qualify = OPERATIONS["qualify"]

    return perform(
        args,
        lambda root: qualify(
            root, args.lead, partner=args.partner, kind=args.kind, **commit_flags(args)
        ),
    )


def add_disqualify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lead", metavar="LEAD", help="the lead")
    parser.add_argument(
        "--reason", required=True, metavar="R", help="why (catalogs/loss-reasons.yaml)"
    )
    add_common(parser)


def run_disqualify(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    disqualify = OPERATIONS["disqualify"]

    return perform(
        args, lambda root: disqualify(root, args.lead, reason=args.reason, **commit_flags(args))
    )
