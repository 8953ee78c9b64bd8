"""``crm export csv|sqlite`` and ``crm import csv``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crmfiles.config import find_root
from crmfiles.errors import CrmError
from crmfiles.records import RECORD_FOLDERS

IMPORT_HELP = """\
MAPPING.yaml names, for each CSV column, the field it fills:

  columns:   {Deal: name, Stage: stage, Value: amount, Owner: responsible, Notes: null}
  values:    {stage: {Prospecting: qualify}, responsible: {"Anna B.": anna.becker}}
  defaults:  {kind: standard-sale, status: in_progress}
  separator: ";"     # list items in a cell      delimiter: ","   # between cells

Every row is checked like `crm validate` before anything is written; a refused row is
reported with its row number and why.  One refused row and nothing is written, unless
--partial.  The import is one commit, unless --no-commit.
"""


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=("csv", "sqlite"), help="what to write")
    parser.add_argument("file", nargs="?", metavar="FILE", help="sqlite: the database file")
    parser.add_argument(
        "--out", metavar="DIR", help="csv: the folder to write into (default: crm-export)"
    )
    parser.add_argument(
        "--type",
        choices=list(RECORD_FOLDERS),
        metavar="TYPE",
        help="csv: only this record type; without --out it goes to stdout",
    )
    parser.add_argument("--at", metavar="DATE|REV", help="the repository as it was at DATE or REV")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="csv: values exactly as stored, for programs; by default a cell starting "
        "with = + - @ is prefixed with ' so spreadsheets do not run it as a formula",
    )


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    from crmfiles.importer import IMPORTABLE

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = IMPORT_HELP
    parser.add_argument("source", choices=("csv",), help="the input format")
    parser.add_argument("file", metavar="FILE", help="the CSV file")
    parser.add_argument("--type", required=True, choices=IMPORTABLE, help="the record type")
    parser.add_argument("--map", required=True, metavar="MAPPING.yaml", help="column mapping")
    parser.add_argument(
        "--partial", action="store_true", help="import the valid rows even if some are refused"
    )
    parser.add_argument("--no-commit", action="store_true", help="leave the files uncommitted")
    parser.add_argument(
        "--dry-run", action="store_true", help="check every row and report; write nothing"
    )


def run_export(args: argparse.Namespace) -> int:
    from crmfiles import export
    from crmfiles.reports.common import snapshot

    root = find_root(explicit=args.repo)
    at = snapshot(root, args.at)
    if args.target == "sqlite":
        if not args.file:
            raise CrmError("crm export sqlite needs a FILE", hint="crm export sqlite crm.db")
        if args.type or args.out:
            raise CrmError("--type and --out are for csv; sqlite writes every table to FILE")
        from crmfiles.export_sqlite import export_sqlite
        from crmfiles.history import load_history

        history = load_history(root, at.commit)
        counts = export_sqlite(at.repo, Path(args.file), history=history)
        summary = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
        sys.stderr.write(f"wrote {args.file}: {summary}\n")
        return 0
    if args.file:
        raise CrmError("crm export csv takes no FILE", hint="use --out DIR")
    if args.type and not args.out:
        rows, columns = export.record_csv(at.repo, args.type)
        export.write_csv_stream(sys.stdout, rows, columns, raw=args.raw)
        return 0
    out = Path(args.out or "crm-export")
    written = export.export_csv(at.repo, out, [args.type] if args.type else None, raw=args.raw)
    sys.stderr.write(f"wrote {len(written)} CSV files into {out}/\n")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from crmfiles.importer import import_csv, load_mapping

    root = find_root(explicit=args.repo)
    source = Path(args.file)
    mapping = load_mapping(Path(args.map))
    result = import_csv(
        root,
        source,
        args.type,
        mapping,
        partial=args.partial,
        commit=not args.no_commit,
        dry_run=args.dry_run,
    )
    for warning in result.warnings:
        sys.stderr.write(f"{source}: warning: {warning}\n")
    for refusal in result.refused:
        who = f" ({refusal.id})" if refusal.id else ""
        for reason in refusal.reasons:
            sys.stdout.write(
                f"{source}:{refusal.line}: row {refusal.row}{who}: refused: {reason}\n"
            )
    good = result.rows - len(result.refused) - result.already
    kind = args.type if len(result.written) != 1 else RECORD_FOLDERS[args.type]
    if result.refused and not args.partial:
        sys.stderr.write(
            f"crm: {len(result.refused)} of {result.rows} rows refused; nothing written"
            + (f" (--partial imports the {good} valid rows)" if good else "")
            + "\n"
        )
        return 1
    if args.dry_run:
        sys.stderr.write(f"crm: {good} of {result.rows} rows would be imported (dry run)\n")
        return 1 if result.refused else 0
    if mapping.key is not None:  # rows found by their key are not new
        sys.stderr.write(f"crm: {result.already} already imported, {len(result.written)} new\n")
        if not result.written:
            return 0
    where = f" in commit {result.commit[:9]}" if result.commit else ""
    sys.stderr.write(f"crm: imported {len(result.written)} {kind} from {source.name}{where}\n")
    return 0
