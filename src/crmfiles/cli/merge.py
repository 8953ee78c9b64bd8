"""``crm install`` and ``crm merge-driver``: merging CRM files field by field."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_install_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Set up this clone to merge CRM files field by field: the `merge.crm` driver in "
        ".git/config (which a clone does not copy) and the .gitattributes lines that "
        "route crm.yaml, catalogs and records to it. Safe to run again."
    )


def run_install(args: argparse.Namespace) -> int:
    from crmfiles import git
    from crmfiles.config import find_root
    from crmfiles.errors import CrmError
    from crmfiles.merge.setup import ATTRIBUTES_FILE, install

    root = find_root(explicit=args.repo)
    if git.toplevel(root) is None:
        raise CrmError(f"{root} is not in a git repository", hint="run `git init` there first")
    done = install(root)
    print(f"merge driver: git config merge.crm.driver = {done.command}")
    if done.attributes_written:
        print(f"wrote {ATTRIBUTES_FILE}: commit it, so every clone routes CRM files to it")
    else:
        print(f"{ATTRIBUTES_FILE} already routes CRM files to the driver")
    return 0


def add_merge_driver_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "git's merge driver for CRM files (`crm install` sets it up): merges THEIRS into "
        "OURS from BASE field by field; a conflict is marked on the field both sides "
        "changed. Exit 0 when clean, 1 with conflicts."
    )
    parser.add_argument("base", metavar="BASE", help="the merge base's version (git's %%O)")
    parser.add_argument("ours", metavar="OURS", help="our version; the result goes here (%%A)")
    parser.add_argument("theirs", metavar="THEIRS", help="their version (%%B)")
    parser.add_argument("path", metavar="PATH", help="the file's path in the repository (%%P)")


def run_merge_driver(args: argparse.Namespace) -> int:
    from crmfiles.merge.driver import merge_files

    return merge_files(Path(args.base), Path(args.ours), Path(args.theirs), args.path)


# the command is `merge-driver`: cli.main looks its functions up by that name
globals()["add_merge-driver_arguments"] = add_merge_driver_arguments
globals()["run_merge-driver"] = run_merge_driver
