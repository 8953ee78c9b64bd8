"""``crm fmt``."""

from __future__ import annotations

import argparse


def add_fmt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--layout", action="store_true")


def run_fmt(args: argparse.Namespace) -> int:
    raise SystemExit("crm fmt: coming in this change")
