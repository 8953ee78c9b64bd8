"""Domain operations that both the CLI and the TUI call: check with the rules, write
with records, commit with git.  The public API is :mod:`crmfiles.ops.records`, also
importable from here (loaded on first use, so ``crm fmt`` does not pay for it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmfiles.ops.records import (
        DELETE,
        CommitFailed,
        OpResult,
        Refused,
        Stale,
        check_edit,
        close,
        content_hash,
        create,
        create_text,
        disqualify,
        duplicate,
        move,
        qualify,
        reopen,
        template,
        update,
    )

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


def __getattr__(name: str) -> Any:
    if name in __all__:
        from crmfiles.ops import records

        return getattr(records, name)
    raise AttributeError(f"module 'crmfiles.ops' has no attribute {name!r}")
