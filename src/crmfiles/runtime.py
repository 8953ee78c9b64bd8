"""How crm runs here, passed to what behaves differently because of it.

As the ``crm`` command, a short-lived process: a long check may fork a helper and
show a bar on a terminal; work that only makes the next command faster (writing a
cache, git's housekeeping) is done by a detached process after the answer, as git
does its gc; objects are kept until ``os._exit`` rather than freed one by one; and
after a commit the history cache is moved on to it.  Inside a program (the TUI,
tests, a script): none of that; the TUI keeps its own history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from crmfiles.rules.base import Context


class Committed(NamedTuple):
    """A commit an operation made, for the work after it."""

    root: Path
    parent: str | None
    commit: str
    tree: str | None  # None when git commit made it (hooks, signing): not built by crm
    blobs: dict[str, str]  # path -> blob id of each file it wrote
    checked: Context | None  # what the rules checked: HEAD with the edits


# called in the foreground once a commit stands; returns the work to do after the
# answer (or None), which must not raise what matters
AfterCommit = Callable[[Committed, "Runtime"], Callable[[], None] | None]


class Runtime:
    """How crm runs (see the module's docstring); a plain class, as it is made by
    every command."""

    __slots__ = ("after_commit", "command_line")

    def __init__(
        self, *, command_line: bool = False, after_commit: tuple[AfterCommit, ...] = ()
    ) -> None:
        self.command_line = command_line
        # what runs once a commit stands (the caches): see crmfiles.ops.aftercommit
        self.after_commit = after_commit

    @property
    def detach(self) -> bool:
        """Work after the answer goes to a detached process (else a thread)."""
        return self.command_line

    @property
    def bar(self) -> bool:
        """A long check may show a bar and fork a helper process."""
        return self.command_line

    @property
    def keep_heap(self) -> bool:
        """The process ends with ``os._exit``: objects are not freed one by one."""
        return self.command_line

    @property
    def follow_history(self) -> bool:
        """A commit moves the history cache on (the TUI keeps its own)."""
        return self.command_line

    @classmethod
    def command(cls) -> Runtime:
        """The ``crm`` command's."""
        from crmfiles.ops.aftercommit import STANDARD

        return cls(command_line=True, after_commit=STANDARD)

    @classmethod
    def library(cls) -> Runtime:
        """A program's that imports crmfiles (the TUI's, a test's)."""
        from crmfiles.ops.aftercommit import STANDARD

        return cls(command_line=False, after_commit=STANDARD)
