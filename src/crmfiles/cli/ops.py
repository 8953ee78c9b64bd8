"""``crm move``, ``close``, ``reopen``, ``duplicate``, ``merge``, ``qualify`` and
``disqualify``: parse, call :mod:`crmfiles.ops`, say in a line what happened
(:mod:`crmfiles.cli.writes`).

A refusal prints the diagnostics as ``crm lint`` does and exits 1; bad input (an
unknown id, stage or reason) is a message and exit 2, like every usage error; git
refusing the commit (a hook, signing, a lock) is what git said and exit 3.
"""

from __future__ import annotations

import argparse

from crmfiles.cli.writes import add_common, commit_flags, perform
from crmfiles.errors import CrmError

# --- the pipeline -------------------------------------------------------------------


def add_move_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    parser.add_argument("stage", metavar="STAGE", help="the stage to move it to")
    parser.add_argument(
        "--probability",
        type=int,
        metavar="N",
        help="set the probability (default: the stage's, unless it was set by hand)",
    )
    add_common(parser)


def run_move(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    move = OPERATIONS["move"]

    return perform(
        args,
        lambda root: move(
            root, args.id, args.stage, probability=args.probability, **commit_flags(args)
        ),
    )


def add_close_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    outcome = parser.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--won", action="store_true", help="won: probability 100")
    outcome.add_argument("--lost", action="store_true", help="lost: probability 0, needs --reason")
    parser.add_argument("--reason", metavar="R", help="why it was lost (catalogs/loss-reasons)")
    parser.add_argument("--comment", metavar="C", help="more on why it was lost")
    parser.add_argument(
        "--keep-open",
        action="store_true",
        help="set won or lost but do not close it (closed records are read-only)",
    )
    add_common(parser)


def run_close(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    close = OPERATIONS["close"]

    if args.lost and not args.reason:
        raise CrmError("--lost needs --reason R", hint="the reasons are in catalogs/loss-reasons")
    return perform(
        args,
        lambda root: close(
            root,
            args.id,
            won=args.won,
            reason=args.reason,
            comment=args.comment,
            keep_open=args.keep_open,
            **commit_flags(args),
        ),
    )


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", choices=("partner", "contact"), help="what the two records are")
    parser.add_argument("keep", metavar="KEEP", help="the record that stays")
    parser.add_argument(
        "drop", metavar="DROP", help="its duplicate: merged into KEEP, then removed"
    )
    add_common(parser)


def run_merge(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    merge = OPERATIONS["merge"]

    return perform(
        args, lambda root: merge(root, args.type, args.keep, args.drop, **commit_flags(args))
    )


def add_reopen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity")
    add_common(parser)


def run_reopen(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    reopen = OPERATIONS["reopen"]

    return perform(args, lambda root: reopen(root, args.id, **commit_flags(args)))


def add_duplicate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the opportunity to copy")
    parser.add_argument("--name", metavar="NEW", help="the new one's name (default: '... (copy)')")
    add_common(parser)


def run_duplicate(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    duplicate = OPERATIONS["duplicate"]

    return perform(
        args, lambda root: duplicate(root, args.id, name=args.name, **commit_flags(args))
    )


# --- leads --------------------------------------------------------------------------


def add_qualify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lead", metavar="LEAD", help="the lead")
    parser.add_argument(
        "--partner", metavar="ID", help="an existing partner (default: a new one from the lead)"
    )
    parser.add_argument("--kind", metavar="KIND", help="the opportunity's kind")
    add_common(parser)


def run_qualify(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    qualify = OPERATIONS["qualify"]

    return perform(
        args,
        lambda root: qualify(
            root, args.lead, partner=args.partner, kind=args.kind, **commit_flags(args)
        ),
    )


def add_disqualify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lead", metavar="LEAD", help="the lead")
    parser.add_argument(
        "--reason", required=True, metavar="R", help="why (catalogs/loss-reasons.yaml)"
    )
    add_common(parser)


def run_disqualify(args: argparse.Namespace) -> int:
    from crmfiles.ops.registry import OPERATIONS

    disqualify = OPERATIONS["disqualify"]

    return perform(
        args, lambda root: disqualify(root, args.lead, reason=args.reason, **commit_flags(args))
    )
