"""One fatal error type; the CLI's handler maps it to exit status 2 and a message."""

from __future__ import annotations


class CrmError(Exception):
    """A usage or configuration error: bad repository, unknown revision, broken crm.yaml."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
