"""Warnings a read produces on the side (a file skipped because it could not be read),
collected here and shown once by the front end: the CLI on stderr after the answer, so
that a list or an export never silently leaves a record out."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_pending: list[str] = []


def warn(message: str) -> None:
    with _lock:
        if message not in _pending:
            _pending.append(message)


def drain() -> list[str]:
    """The warnings since the last call, in the order they were given."""
    with _lock:
        out = _pending[:]
        _pending.clear()
    return out


def withdraw(message: str) -> None:
    """A warning said better by the error that follows it (not shown twice)."""
    with _lock:
        if message in _pending:
            _pending.remove(message)


def pending() -> bool:
    """Whether a warning waits to be shown."""
    with _lock:
        return bool(_pending)
