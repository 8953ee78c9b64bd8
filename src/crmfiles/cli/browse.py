"""``crm list`` and ``crm show``."""

from __future__ import annotations

import argparse


def add_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type")


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id")


def run_list(args: argparse.Namespace) -> int:
    raise SystemExit("coming")


def run_show(args: argparse.Namespace) -> int:
    raise SystemExit("coming")
