"""The TUI's edit form: save some fields of a record, and check a text as it is typed.

A save is refused when the file changed on disk since the form loaded it (its content
hash, :func:`content_hash`, differs from the one the form kept): someone else's edit
is never silently overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmfiles import git
from crmfiles.cache import blob_id
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.ops.commit import Plan, branch_for, subject
from crmfiles.ops.guard import review
from crmfiles.ops.result import Stale
from crmfiles.ops.runner import Unchanged, operation
from crmfiles.ops.workspace import Workspace
from crmfiles.ops.yamltext import set_values
from crmfiles.records import RECORD_FOLDERS, classify


def content_hash(content: bytes | str) -> str:
    """A file's content hash as :func:`update` compares it: git's blob id of its bytes."""
    return blob_id(content.encode("utf-8") if isinstance(content, str) else content)


def plan_update(
    ws: Workspace,
    record_id: str,
    fields: Mapping[str, Any],
    *,
    expected_hash: str | None = None,
    verb: str = "edit",
    folders: tuple[str, ...] | None = None,
) -> Plan | Unchanged:
    """Set fields of a record (``DELETE`` removes one), changing only their lines.

    ``record_id`` is an id, ``type/id`` or the record's path.  A change of stage made
    here is a change by hand: it creates no tasks (``move`` does)."""
    record = ws.find(_as_id(record_id), folders)
    if expected_hash is not None:
        now = content_hash((ws.root / record.path).read_bytes())
        if now != expected_hash:
            raise Stale(
                f"{record.path} changed on disk since it was loaded; nothing was written",
                hint="reload it, then make the change again",
            )
    text = set_values(record.text, fields)
    if text == record.text:
        return Unchanged(record.id, f"{record.id}: nothing changed")
    changed = [k for k in fields if record.data.get(k) != fields[k]]
    trailers = [("Crm-Record", record.path)]
    old, new = record.data, {**record.data, **fields}
    if record.folder == "opportunities" and old.get("stage") != new.get("stage"):
        trailers += [
            ("Crm-Stage-From", str(old.get("stage"))),
            ("Crm-Stage-To", str(new.get("stage"))),
        ]
    if old.get("status") != new.get("status"):
        trailers.append(("Crm-Status", str(new.get("status"))))
    plan = Plan(
        verb=verb,
        record=record.id,
        texts={record.path: text},
        created=[],
        subject=subject(verb, record.id, f"({', '.join(changed)})"),
        trailers=trailers,
        branch=branch_for(record.id, verb),
        summary=f"{'saved' if verb == 'edit' else verb} {record.id} ({', '.join(changed)})",
    )
    return plan


update = operation(plan_update)


def _as_id(record_id: str) -> str:
    """``opportunities/2026/01/acme.yaml`` -> ``opportunities/acme``; ids unchanged."""
    place = classify(record_id) if record_id.endswith((".yaml", ".yml")) else None
    if place is not None and place.kind == "record":
        return f"{place.name}/{place.id}"
    return record_id


def check_edit(root: Path, path: str, text: str) -> list[Diagnostic]:
    """The diagnostics of one file's text as typed (not written): every one-revision
    check, and the lifecycle rules against HEAD, as saving and committing it would
    meet them."""
    place = classify(path)
    if place is None or place.kind != "record" or place.name not in RECORD_FOLDERS:
        raise CrmError(f"{path} is not a record file")
    head = git.head(root).commit
    verdict = review(root, {path: text}, head=head, commit=True)
    return [d for d in verdict.diagnostics if d.path == path]
