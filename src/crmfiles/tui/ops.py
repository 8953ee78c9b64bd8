"""The domain operations, as the TUI calls them: found lazily in :mod:`crmfiles.ops`,
run on a worker thread, and turned into one :class:`Outcome` whether they committed
or the rules refused them.  No rule and no git logic lives here.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError

# one operation at a time: two commits racing for .git/index.lock help nobody
_LOCK = threading.Lock()


@dataclass
class Outcome:
    ok: bool
    message: str
    paths: list[str] = field(default_factory=list)
    commit: str | None = None
    branch: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    hint: str | None = None

    @property
    def details(self) -> str:
        """The rules' messages, one a line (what a refused operation shows)."""
        lines = [f"{d.message} [{d.rule}]" for d in self.diagnostics if d.severity == "error"]
        if not lines:
            lines = [self.message]
        if self.hint and not self.diagnostics:
            lines.append(f"hint: {self.hint}")
        hints = [d.hint for d in self.diagnostics if d.hint and d.severity == "error"]
        if hints:
            lines.append(f"hint: {hints[0]}")
        return "\n".join(lines)


def find(name: str) -> Callable[..., Any] | None:
    """The operation ``name`` of :mod:`crmfiles.ops.registry` (the table the CLI reads
    too), imported on first use: the TUI starts without the operations."""
    from crmfiles.ops.registry import OPERATIONS

    return OPERATIONS.get(name)


def accepts(fn: Callable[..., Any], parameter: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return parameter in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def call(name: str, root: Path, /, *args: Any, branch: bool = False, **kwargs: Any) -> Outcome:
    """Run one operation; never raises for what the rules refuse."""
    fn = find(name)
    if fn is None:
        return Outcome(False, f"this crmfiles has no '{name}' operation yet")
    if branch and accepts(fn, "branch"):
        kwargs["branch"] = True
    with _LOCK:
        try:
            result = fn(root, *args, **kwargs)
        except CrmError as err:
            diagnostics = list(getattr(err, "diagnostics", None) or [])
            return Outcome(False, err.message, diagnostics=diagnostics, hint=err.hint)
    return outcome_of(result)


def outcome_of(result: Any) -> Outcome:
    paths = [str(p) for p in getattr(result, "paths", None) or []]
    return Outcome(
        True,
        str(getattr(result, "message", "") or "done"),
        paths,
        getattr(result, "commit", None),
        getattr(result, "branch", None),
        list(getattr(result, "diagnostics", None) or []),
    )
