"""What an operation returns, and the ways it refuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crmfiles.diagnostics import Diagnostic, Severity
from crmfiles.errors import CrmError, GitFailed


@dataclass
class OpResult:
    """What an operation did.

    ``paths`` are the files it wrote or removed (or, with ``branch``, committed without writing);
    ``commit`` the new commit (None with ``commit=False``); ``branch`` the branch that
    holds it when the operation ran with ``branch=True``; ``message`` what happened, in
    a few short lines for a person; ``diagnostics`` the warnings that did not block.
    """

    paths: list[str]
    commit: str | None
    branch: str | None
    message: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    id: str = ""  # the record the operation was about (the new one, for create/duplicate)
    created: list[str] = field(default_factory=list)  # the paths that are new files
    removed: list[str] = field(default_factory=list)  # the paths among them it deleted


class Refused(CrmError):
    """The operation would break a rule (or cannot be done); raised before anything is
    written, so files, the index and HEAD are as they were."""

    def __init__(
        self, message: str, diagnostics: Sequence[Diagnostic] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.diagnostics = list(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


class Stale(Refused):
    """The file changed on disk since it was loaded: saving would overwrite that."""


class CommitFailed(GitFailed):
    """git refused the commit (a hook said no, signing failed...). The operation's files
    are restored to what they were, so nothing is left half done."""
