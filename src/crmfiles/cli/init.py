"""``crm init`` and ``crm demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        default=".",
        metavar="DIR",
        help="where to make the repository (default: here)",
    )
    parser.add_argument(
        "--example", action="store_true", help="fill it with the example company's data"
    )
    parser.add_argument(
        "--no-commit", action="store_true", help="write the files but leave committing to you"
    )


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="DIR",
        help="where to make the scratch copy (default: a new temporary folder)",
    )
    parser.add_argument(
        "--no-tui",
        action="store_true",
        help="make the scratch repository and list it instead of opening the TUI",
    )


def run_init(args: argparse.Namespace) -> int:
    from crmfiles.ops.init import init_repo

    root = init_repo(Path(args.dir), example=args.example, commit=not args.no_commit)
    print(f"Made a CRM repository in {root}")
    print("  crm validate        check it")
    print("  crm list opportunities")
    print("  pre-commit install  lint every commit (needs pre-commit: pip install pre-commit)")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from crmfiles.ops.demo import make_demo

    root = make_demo(Path(args.dir) if args.dir else None)
    sys.stderr.write(f"Demo repository with history: {root}\n")
    if args.no_tui or not sys.stdout.isatty():
        from crmfiles.cli.browse import run_list
        from crmfiles.cli.main import build_parser

        list_args = build_parser("list").parse_args(["list", "opportunities", "--repo", str(root)])
        code = run_list(list_args)
        sys.stderr.write(f"\nTry: cd {root} && crm validate && git log --oneline | head\n")
        return code
    from crmfiles.tui.app import run as run_tui

    return run_tui(root)
