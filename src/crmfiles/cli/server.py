"""``crm server install | hook | check``: the lifecycle checks enforced on push."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    install = sub.add_parser("install", help="install the pre-receive hook in a (bare) repository")
    install.add_argument("bare_repo", metavar="BARE_REPO", help="the repository pushed to")
    install.add_argument(
        "--branch",
        action="append",
        metavar="NAME",
        help="a protected branch: a push with an error is refused (repeatable; default: main)",
    )
    install.add_argument(
        "--force",
        action="store_true",
        help="keep an existing pre-receive hook as pre-receive.before-crm, run first",
    )
    sub.add_parser("hook", help="run by git as the pre-receive hook (reads `old new ref` lines)")
    check = sub.add_parser("check", help="what the hook would say about a push of OLD..NEW")
    check.add_argument("old", metavar="OLD", help="the branch's commit before (0…0: a new branch)")
    check.add_argument("new", metavar="NEW", help="the pushed commit (0…0: a deletion)")
    check.add_argument(
        "--branch", metavar="NAME", help="the branch pushed to (default: the first protected one)"
    )
    check.add_argument(
        "--repo",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the repository (default: the current folder)",
    )


def _here(args: argparse.Namespace) -> Path:
    from crmfiles.server import git_dir

    path = Path(getattr(args, "repo", None) or ".").expanduser().resolve()
    git_dir(path)
    return path


def run_server(args: argparse.Namespace) -> int:
    from crmfiles import git, server

    if args.action == "install":
        path = Path(args.bare_repo).expanduser().resolve()
        done = server.install(path, args.branch or ["main"], force=args.force)
        print(f"{'installed' if done.changed else 'up to date:'} {done.hook}")
        if done.kept:
            print(f"kept the earlier hook as {done.kept} (it runs first)")
        print(f"protected: {', '.join(done.branches)} (git config --get-all {server.SETTING})")
        return 0
    root = _here(args)
    if args.action == "hook":
        stdin = sys.stdin.read()
        chained = server.run_chained(server.hooks_dir(root), stdin, [])
        if chained != 0:
            return chained
        return server.receive(root, server.read_updates(stdin), sys.stderr)
    branch = args.branch or next(iter(server.protected(root)), "main")
    old, new = (
        server.ZERO if set(rev) == {"0"} else git.resolve(rev, root) for rev in (args.old, args.new)
    )
    update = server.Update(old, new, server.BRANCH_PREFIX + branch)
    return server.receive(root, [update], sys.stdout)
