"""The domain operations the CLI and the TUI call, in one place.

Every operation builds its edits in memory, checks them with the engine ``crm lint``
uses (refusing with :class:`Refused` before anything is written), writes them
atomically and commits exactly its files (``commit=False``: left in the work tree;
``branch=True``: committed on a new ``crm/<id>-<what>`` branch, nothing else touched).
"""

from __future__ import annotations

from crmfiles.ops.edit import check_edit, content_hash, update
from crmfiles.ops.leads import disqualify, qualify
from crmfiles.ops.new import create, create_text, template
from crmfiles.ops.pipeline import close, duplicate, move, reopen
from crmfiles.ops.result import CommitFailed, OpResult, Refused, Stale
from crmfiles.records.edit import DELETE

__all__ = [
    "DELETE",
    "CommitFailed",
    "OpResult",
    "Refused",
    "Stale",
    "check_edit",
    "close",
    "content_hash",
    "create",
    "create_text",
    "disqualify",
    "duplicate",
    "move",
    "qualify",
    "reopen",
    "template",
    "update",
]
