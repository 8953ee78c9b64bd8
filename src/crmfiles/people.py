"""Who I am: one rule for every part of crmfiles.

"Me" is the person in ``catalogs/people.yaml`` one of whose ``emails`` is the e-mail
git records as the author of the next commit (``user.email``, or ``GIT_AUTHOR_EMAIL``).
That is the person lint judges a commit by, so the CLI, the TUI and the operations
all use the same answer. ``crm.yaml``'s ``me`` is only a fallback for views such as
My tasks when that e-mail belongs to nobody; it never changes what lint sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLE_ALLOWS = {
    "sales": "create and edit records; move, close and duplicate the opportunities "
    "you are responsible for or on the team of",
    "manager": "everything sales may, on every opportunity; reopen closed ones; "
    "approve stage changes in review",
    "admin": "change crm.yaml and the catalogs (stages, kinds, people)",
}


@dataclass(frozen=True)
class Me:
    email: str | None  # the e-mail git will record
    person: str | None  # the person id it maps to (None: nobody)
    fallback: str | None = None  # crm.yaml's `me`, used for views when person is None

    @property
    def id(self) -> str | None:
        """The person views are for: the git e-mail's, else crm.yaml's ``me``."""
        return self.person or self.fallback


def person_for_email(people: Mapping[str, Mapping[str, Any]], email: str | None) -> str | None:
    """The id of the person one of whose e-mails is ``email`` (case-insensitive)."""
    if not email:
        return None
    wanted = email.casefold()
    for person_id, person in people.items():
        emails = person.get("emails")
        if isinstance(emails, list) and wanted in (str(e).casefold() for e in emails):
            return str(person_id)
    return None


def read_people(root: Path) -> dict[str, dict[str, Any]]:
    """catalogs/people.yaml of the work tree, by id, as every reader builds a catalog
    (:mod:`crmfiles.records.catalogs`; {} when it cannot be read: `crm validate` says
    why). Reads that one file, not the repository."""
    from crmfiles.records.catalogs import catalog_entries, parse_bytes
    from crmfiles.records.opener import Unreadable, read_regular

    try:
        content = read_regular(root / "catalogs" / "people.yaml")
    except (OSError, Unreadable):
        return {}
    return catalog_entries(parse_bytes(content)) or {}


def who_am_i(
    people: Mapping[str, Mapping[str, Any]], email: str | None, config_me: Any = None
) -> Me:
    fallback = config_me if isinstance(config_me, str) and config_me in people else None
    return Me(email, person_for_email(people, email), fallback)
