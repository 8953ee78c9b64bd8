"""``crm fmt``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crmfiles.config import find_root
from crmfiles.errors import CrmError


def add_fmt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="only these files or folders")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when a file is not formatted"
    )
    parser.add_argument(
        "--layout", action="store_true", help="move records into crm.yaml's layout, in one commit"
    )
    parser.add_argument(
        "--no-commit",
        action="store_true",
        help="with --layout: leave the moves staged instead of committing",
    )


def run_fmt(args: argparse.Namespace) -> int:
    from crmfiles.ops.fmt import fmt, relayout

    root = find_root(explicit=args.repo)
    if args.layout:
        if args.check:
            raise CrmError("--layout and --check do not go together")
        from crmfiles.records.store import Repository

        moves = relayout(root, Repository(root).config, commit=not args.no_commit)
        for old, new in moves:
            print(f"moved {old} -> {new}")
        print(
            f"{len(moves)} record{'s' if len(moves) != 1 else ''} moved"
            if moves
            else "every record is already where the layout puts it"
        )
        return 0
    paths = []
    for raw in args.paths:
        full = Path(raw).resolve()
        try:
            paths.append(full.relative_to(root).as_posix())
        except ValueError:
            raise CrmError(f"'{raw}' is outside the repository {root}") from None
    result = fmt(root, paths or None, check=args.check)
    for path, why in result.skipped:
        sys.stderr.write(f"{path}: skipped: {why}\n")
    verb = "would reformat" if args.check else "reformatted"
    for path in result.changed:
        print(f"{verb} {path}")
    if args.check and result.changed:
        return 1
    if not result.changed:
        print("every file is formatted")
    return 1 if result.skipped and args.check else 0
