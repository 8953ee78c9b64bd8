"""``crm new --edit``: the record in the user's editor, checked before it is saved.

The editor is git's (``git var GIT_EDITOR``: ``GIT_EDITOR``, ``core.editor``,
``VISUAL``, ``EDITOR``).  The file opens filled in, its schema line pointing at the
repository's schemas so the editor completes fields; instructions sit at the bottom,
so the line numbers of a diagnostic are the editor's.  A refused record is shown with
its diagnostics and, on a terminal, offered for another edit; elsewhere it is refused.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.cli.writes import show_failure, show_refusal, show_result
from crmfiles.config import find_root
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.ops.init import SCHEMA_COMMENT, SCHEMA_HOME
from crmfiles.ops.new import create_text, template
from crmfiles.ops.result import CommitFailed, Refused
from crmfiles.records import RECORD_FOLDERS

MARK = "# crm:"


def _instructions(diagnostics: list[Diagnostic]) -> str:
    lines = [
        "",
        f"{MARK} Save and quit to create this record; empty the file to cancel.",
        f"{MARK} Lines starting with '{MARK}' are dropped.",
    ]
    for d in diagnostics:
        lines.append(f"{MARK} line {d.line}: {d.severity}: {d.message} [{d.rule}]")
    return "\n".join(lines) + "\n"


def _body(text: str) -> str:
    kept = [line for line in text.splitlines() if not line.startswith(MARK)]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def _for_editor(root: Path, record_type: str, text: str) -> str:
    """The schema line made absolute: the scratch file is not where the record goes."""
    if text.startswith(SCHEMA_COMMENT):
        text = text.split("\n", 1)[1]
    schema = (root / SCHEMA_HOME / f"{record_type}.schema.json").as_uri()
    return f"{SCHEMA_COMMENT}{schema}\n{text}"


def edit_new(args: argparse.Namespace, folder: str, fields: dict[str, Any]) -> int:
    root = find_root(explicit=args.repo)
    record = template(root, folder, fields)
    editor = git.out(["var", "GIT_EDITOR"], root).strip()
    scratch_dir = Path(tempfile.mkdtemp(prefix="crm-new-"))
    scratch = scratch_dir / f"{record.id}.yaml"
    text = _for_editor(root, RECORD_FOLDERS[folder], record.text)
    scratch.write_text(text + _instructions([]), "utf-8")
    try:
        while True:
            status = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, str(scratch)]).returncode
            if status != 0:
                raise CrmError(f"the editor ({editor}) exited with status {status}; nothing saved")
            body = _body(scratch.read_text("utf-8"))
            if not body.strip():
                sys.stderr.write("crm: the file is empty; nothing was created\n")
                return 1
            try:
                result = create_text(
                    root,
                    folder,
                    body,
                    fallback_id=record.id,
                    commit=not args.no_commit,
                    branch=args.branch,
                )
            except Refused as refused:
                show_refusal(args, refused)
                if not sys.stdin.isatty():
                    return 1
                answer = input("edit again? [Y/n] ").strip().lower()
                if answer.startswith("n"):
                    return 1
                scratch.write_text(body + _instructions(refused.diagnostics), "utf-8")
                continue
            except CommitFailed as failed:
                return show_failure(args, failed)
            return show_result(args, result)
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
