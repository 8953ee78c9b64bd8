"""What every write command shares (``crm new``, ``move``, ``quote``, ``set``, ``task``...):
``--no-commit``, ``--branch`` and ``--format``; running the operation; saying in a line
what happened.

A refusal prints the diagnostics as ``crm lint`` does and exits 1; git refusing the
commit (a hook, signing, a lock) is what git said and exit 3.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmfiles.config import find_root, use_color


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
