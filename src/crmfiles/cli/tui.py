"""``crm tui``: the TUI on this repository."""

from __future__ import annotations

import argparse

from crmfiles.config import find_root


def add_tui_arguments(parser: argparse.ArgumentParser) -> None:
    """No options of its own: ``--repo DIR`` picks the repository."""


def run_tui(args: argparse.Namespace) -> int:
    root = find_root(explicit=args.repo)
    from crmfiles.tui.app import run

    return run(root)
