"""``crm init`` and ``crm demo``."""

from __future__ import annotations

import argparse


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR")
    parser.add_argument("--example", action="store_true", help="fill it with the example data")


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", metavar="DIR", help="where to make the scratch copy")


def run_init(args: argparse.Namespace) -> int:
    raise SystemExit("crm init: coming in this change")


def run_demo(args: argparse.Namespace) -> int:
    raise SystemExit("crm demo: coming in this change")
