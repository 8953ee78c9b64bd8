"""``crm set ID FIELD=VALUE...`` and ``crm edit ID``.

``crm edit`` opens the record in git's editor (``git var GIT_EDITOR``). On save the
text is checked with the rules; when they refuse it, the file opens again with the
diagnostics as comments at the top (as ``kubectl edit`` does) until it passes, or
until the user quits without changing it: then nothing is written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from crmfiles import git
from crmfiles.cli.writes import (
    add_common,
    commit_flags,
    json_out,
    perform,
    show_failure,
    show_refusal,
    show_result,
)
from crmfiles.config import find_root
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS

MARK = "# crm edit:"
MAX_ROUNDS = 50  # an editor script that never fixes the file does not loop forever


def _add_type(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type",
        metavar="TYPE",
        help="the record type, when two types have a record with this id "
        f"({', '.join(RECORD_FOLDERS.values())})",
    )


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the record (an id, or TYPE/ID)")
    parser.add_argument(
        "assignments",
        nargs="*",
        metavar="FIELD=VALUE",
        help="VALUE read as YAML; FIELD may be dotted (insight.pain=...); "
        "FIELD+=VALUE appends to a list, FIELD-=N removes its Nth item",
    )
    parser.add_argument(
        "--unset", action="append", default=[], metavar="FIELD", help="remove a field; repeatable"
    )
    _add_type(parser)
    add_common(parser)


def run_set(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS
    from crmfiles.ops.setfields import Assignment, parse_assignment

    set_fields = OPERATIONS["set"]

    assignments = [parse_assignment(text) for text in args.assignments]
    for field in args.unset:
        assignments.append(Assignment(tuple(field.split(".")), "unset"))
    return perform(
        args,
        lambda root: set_fields(root, args.id, assignments, folder=args.type, **commit_flags(args)),
    )


def add_edit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the record (an id, or TYPE/ID)")
    _add_type(parser)
    add_common(parser)


def _header(diagnostics: list[Diagnostic]) -> str:
    lines = [
        f"{MARK} the rules refused this record; fix it and save, or quit without",
        f"{MARK} changing anything to leave the record as it was. Lines starting with",
        f"{MARK} '{MARK}' are dropped; line numbers count from the line below them.",
    ]
    lines += [f"{MARK} line {d.line}: {d.severity}: {d.message} [{d.rule}]" for d in diagnostics]
    return "\n".join(lines) + "\n"


def _body(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith(MARK))


def run_edit(args: argparse.Namespace) -> int:
    from crmfiles.ops.edit import content_hash
    from crmfiles.ops.registry import OPERATIONS
    from crmfiles.ops.result import CommitFailed, Refused, Stale
    from crmfiles.ops.setfields import find_record

    save_text = OPERATIONS["edit"]
    from crmfiles.ops.workspace import Workspace

    root = find_root(explicit=args.repo)
    with Workspace(root) as ws:  # (read only: which file, and what it holds now)
        record = find_record(ws, args.id, args.type)
    original = record.text
    loaded = content_hash(original)
    editor = git.out(["var", "GIT_EDITOR"], root).strip()
    scratch_dir = Path(tempfile.mkdtemp(prefix="crm-edit-"))
    scratch = scratch_dir / Path(record.path).name
    shown = original
    scratch.write_text(shown, "utf-8")
    flags = commit_flags(args)
    rounds = 0
    try:
        while True:
            status = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, str(scratch)]).returncode
            if status != 0:
                raise CrmError(f"the editor ({editor}) exited with status {status}; nothing saved")
            saved = scratch.read_text("utf-8")
            if saved == shown:
                said = f"{record.path} was not changed; nothing was written"
                if args.format == "json":
                    ok = shown == original
                    json_out({"version": 1, "ok": ok, "id": record.id, "message": said})
                sys.stderr.write(f"crm: {said}\n")
                return 0 if shown == original else 1
            body = _body(saved)
            try:
                result = save_text(
                    root,
                    f"{record.folder}/{record.id}",
                    body,
                    expected_hash=loaded,
                    **flags,
                )
            except Stale as stale:  # someone else's edit: never overwritten
                raise CrmError(stale.message, hint=stale.hint) from None
            except Refused as refused:
                show_refusal(args, refused)
                shown = _header([d for d in refused.diagnostics if d.path == record.path]) + body
                scratch.write_text(shown, "utf-8")
                rounds += 1
                if rounds >= MAX_ROUNDS:
                    raise CrmError(f"refused {rounds} times; nothing was written") from None
                continue
            except CommitFailed as failed:
                return show_failure(args, failed)
            return show_result(args, result)
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
