"""What a step rule reads: one :class:`Step` of history (two revisions and who made
the change), the :class:`Change` of each record in it (its before and after), and the
small readings of them the step rules share.

The rules themselves are :mod:`crmfiles.rules.transitions` (how an opportunity moves
through its stages) and :mod:`crmfiles.rules.permanence` (what no step may change).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmfiles.diagnostics import Finding


@dataclass
class Change:
    folder: str
    id: str
    path: str  # where the record is after the change (before it, for a deletion)
    old_path: str | None
    old: dict[str, Any] | None  # None: the record is new
    new: dict[str, Any] | None  # None: the record was deleted
    status: str  # A M D R

    @property
    def renamed(self) -> bool:
        return self.old_path is not None and self.old_path != self.path


@dataclass
class Step:
    """One step of history: a commit against its parent, or base against the head."""

    changes: list[Change]
    old_catalogs: dict[str, dict[str, dict[str, Any]]]
    new_catalogs: dict[str, dict[str, dict[str, Any]]]
    commit: str | None = None
    author_email: str | None = None
    author_name: str | None = None
    range_mode: bool = False  # author-not-allowed applies to commits only
    old_record: Callable[[str, str], dict[str, Any] | None] = lambda folder, rid: None
    open_quotes: Callable[[str], list[str]] = lambda opportunity: []
    usage: Callable[[str, str], int] = lambda target, entry: 0
    catalog_paths: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # new texts, for positions
    # a merge's records that only combine both parents lawfully (merge/combined.py)
    combined: frozenset[str] = frozenset()

    def person(self) -> dict[str, Any] | None:
        """The person in catalogs/people.yaml whose e-mail made this step, as the
        catalog stood before it: nobody gains a role in the change that needs it."""
        email = (self.author_email or "").casefold()
        for person in self.old_catalogs.get("people", {}).values():
            emails = person.get("emails")
            if isinstance(emails, list) and email in (str(e).casefold() for e in emails):
                return person
        return None

    def is_manager(self) -> bool:
        person = self.person()
        roles = person.get("roles") if person else None
        return isinstance(roles, list) and ("manager" in roles or "admin" in roles)


def change_finding(
    rule: str,
    change: Change,
    message: str,
    pointer: tuple[str | int, ...] = (),
    hint: str | None = None,
) -> Finding:
    return Finding(
        rule=rule, path=change.path, message=message, pointer=pointer, hint=hint, record=change.id
    )


def kind_of(step: Step, data: dict[str, Any] | None) -> dict[str, Any]:
    kind = step.new_catalogs.get("kinds", {}).get(str((data or {}).get("kind")))
    return kind or {}


def stages_of(kind: dict[str, Any]) -> list[str]:
    stages = kind.get("stages")
    return [str(s) for s in stages] if isinstance(stages, list) else []


def is_closed(data: dict[str, Any] | None) -> bool:
    return bool(data) and (data or {}).get("closed") is True


def is_finished(data: dict[str, Any] | None) -> bool:
    return (data or {}).get("status") in ("won", "lost")
