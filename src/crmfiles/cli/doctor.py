"""``crm doctor``: explain, and with ``--fix`` repair, what killed commands left."""

from __future__ import annotations

import argparse
from pathlib import Path

from crmfiles import git
from crmfiles.config import find_root
from crmfiles.errors import CrmError


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fix", action="store_true", help="repair what is found")
    parser.add_argument(
        "--older-than",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="an index.lock or temporary file counts as left over from this age on (default: 60)",
    )


def run_doctor(args: argparse.Namespace) -> int:
    """Exit 0 when nothing is left over (or all of it was repaired), 1 when something
    is and ``--fix`` was not given."""
    from crmfiles.ops.leftovers import other_leftovers, own_leftovers, repair

    root = find_root(explicit=args.repo)
    git_dir = _git_dir(root)
    found = own_leftovers(git_dir) + other_leftovers(root, git_dir, args.older_than)
    if not found:
        print("nothing left over by an interrupted git or crm command")
        return 0
    for leftover in found:
        print(f"{_shown(root, leftover.path)}: {leftover.explanation}")
        if args.fix:
            print(f"  fixed: {repair(root, leftover)}")
    if not args.fix:
        print(f"{len(found)} found; `crm doctor --fix` repairs them")
        return 1
    return 0


def _git_dir(root: Path) -> Path:
    found = git.find_git_dir(root)
    if found is not None:
        return found
    proc = git.run(["rev-parse", "--absolute-git-dir"], root, check=False)
    if proc.returncode != 0:
        raise CrmError(f"{root} is not in a git repository")
    return Path(proc.stdout.decode().strip())


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
