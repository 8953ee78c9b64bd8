"""The fatal error types, and the exit statuses the CLI's handler maps them to."""

from __future__ import annotations

# the exit statuses of every command (README.md, docs/cli.md)
EXIT_CLEAN = 0  # done; no error found (warnings allowed)
EXIT_FINDINGS = 1  # an error found, or an operation refused by the rules
EXIT_USAGE = 2  # usage or configuration: bad arguments, no repository, unknown revision
EXIT_GIT = 3  # git refused or failed to commit: a hook said no, signing failed, a lock held


class CrmError(Exception):
    """A usage or configuration error: bad repository, unknown revision, broken crm.yaml."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class GitFailed(CrmError):
    """git refused or failed to do what was asked of it (a commit hook said no, signing
    failed, another git holds a lock): exit status 3, so a script can tell it from a
    rule's refusal (1) and from a usage error (2). ``output`` is what git said."""

    def __init__(self, message: str, output: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.output = output
