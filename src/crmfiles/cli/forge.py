"""``crm codeowners`` and ``crm changes``: what a forge and a reviewer need."""

from __future__ import annotations

import argparse
import json
import sys

from crmfiles import csvsafe


def add_codeowners_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        default="CODEOWNERS",
        help="where to write it, relative to the repository (default: "
        "CODEOWNERS; .github/CODEOWNERS and .gitlab/CODEOWNERS work too)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the file is out of date"
    )


def run_codeowners(args: argparse.Namespace) -> int:
    from crmfiles.ops.codeowners import SIZE_LIMIT, build, write
    from crmfiles.records.store import Repository

    repo = Repository.find(args.repo)
    owners = repo.provisionally(lambda: build(repo))  # (while git looks at the work tree)
    target = repo.root / args.output
    if owners.unrouted:
        sample = ", ".join(owners.unrouted[:5])
        more = f" and {len(owners.unrouted) - 5} more" if len(owners.unrouted) > 5 else ""
        sys.stderr.write(
            f"crm: warning: no forge handle for the responsible person of "
            f"{sample}{more}: only the managers review them\n"
            "  hint: set forge: in catalogs/people.yaml\n"
        )
    if len(owners.text.encode()) > SIZE_LIMIT:
        sys.stderr.write(
            f"crm: warning: {args.output} is over {SIZE_LIMIT:,} bytes; "
            "GitHub ignores a CODEOWNERS file that large\n"
        )
    if args.check:
        current = target.read_text("utf-8") if target.exists() else None
        if current != owners.text:
            print(f"{args.output} is out of date: run `crm codeowners`")
            return 1
        print(f"{args.output} is up to date")
        return 0
    changed = write(repo.root, target, owners)
    print(f"{'wrote' if changed else 'unchanged:'} {args.output}")
    return 0


def add_changes_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REV", help="from this revision (default: HEAD)")
    parser.add_argument("--head", metavar="REV", help="to this revision (default: the work tree)")
    parser.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table")


def run_changes(args: argparse.Namespace) -> int:
    from crmfiles.config import find_revisions_root, find_root
    from crmfiles.lint import lint
    from crmfiles.money import fmt
    from crmfiles.reports.changes import markdown, movements
    from crmfiles.reports.delta import delta, text

    # two committed revisions need no work tree: a bare repository will do
    root = find_revisions_root(args.repo) if args.head else find_root(explicit=args.repo)
    result = lint(root, base=args.base, head=args.head)
    moves = sorted(movements(result.steps), key=lambda m: m.id)
    assert result.report.context is not None
    money = delta(result.steps, result.report.context)
    if args.format == "markdown":
        sys.stdout.write(markdown(moves, result.report.diagnostics, money))
        return 0
    rows = [
        {
            "id": m.id,
            "name": m.name,
            "from": m.origin,
            "to": m.target,
            "amount": str(m.amount) if m.amount is not None else None,
            "currency": m.currency,
            "by": m.authors,
            "commits": m.commits,
        }
        for m in moves
    ]
    if args.format == "json":
        json.dump(
            {
                "version": 1,
                "base": args.base or "HEAD",
                "head": args.head or "work tree",
                "moved": rows,
                "pipeline": money.as_dict(),
            },
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
        return 0
    if args.format == "csv":
        writer = csvsafe.Writer(sys.stdout)
        writer.writerow(["id", "name", "from", "to", "amount", "currency", "by"])
        for row in rows:
            writer.writerow(
                [
                    row["id"],
                    row["name"],
                    row["from"],
                    row["to"],
                    row["amount"] or "",
                    row["currency"],
                    ";".join(map(str, row["by"] or ())),
                ]
            )
        return 0
    for line in text(money):
        print(line)
    print()
    if not moves:
        print("No opportunity changed stage or status.")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, justify in (
        ("opportunity", "left"),
        ("from", "left"),
        ("to", "left"),
        ("amount", "right"),
        ("by", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for m in moves:
        amount = f"{fmt(m.amount)} {m.currency}".strip() if m.amount is not None else ""
        table.add_row(m.id, m.origin, m.target, amount, ", ".join(m.authors))
    Console(width=None if sys.stdout.isatty() else 10_000).print(table)
    return 0
