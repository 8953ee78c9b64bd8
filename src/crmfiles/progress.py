"""Progress bars for long work: shown on stderr when it is a terminal, nothing otherwise.

Every long command (history on a large log, export, import, reports, validate, lint)
reports through :func:`progress`, which hands back a :class:`Bar`.  Piped or
redirected, the bar is a no-op and the output stays exactly what it was; on a
terminal it appears only once the work has run for ``delay`` seconds, so quick runs
stay quiet, and it vanishes when the work ends.  ``CRM_PROGRESS=0`` turns bars off,
``CRM_PROGRESS=1`` forces them (for a terminal that does not say it is one).

    with progress("Reading history", total=len(commits)) as bar:
        for commit in commits:
            ...
            bar.advance()
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

DELAY = 0.4  # seconds of work before a bar appears


def enabled(stream: TextIO | None = None) -> bool:
    """Whether a bar would be drawn on ``stream`` (stderr by default)."""
    setting = os.environ.get("CRM_PROGRESS", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    stream = stream if stream is not None else sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Bar:
    """A task on a bar; every method is cheap and safe to call when nothing is drawn."""

    def __init__(
        self, description: str, total: float | None, delay: float, threadless: bool = False
    ) -> None:
        self.description = description
        self._threadless = threadless
        self.total = total
        self.completed = 0.0
        self._delay = delay
        self._started = time.monotonic()
        self._live: Any = None  # rich.progress.Progress, once shown
        self._task: Any = None
        self._closed = False

    def advance(self, amount: float = 1) -> None:
        self.completed += amount
        self._refresh()

    def update(
        self,
        *,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        self._refresh()

    def _refresh(self) -> None:
        if self._closed:
            return
        if self._live is None:
            if time.monotonic() - self._started < self._delay:
                return
            self._show()
        self._live.update(
            self._task, completed=self.completed, total=self.total, description=self.description
        )
        if self._threadless:
            self._live.refresh()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._live = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            # the bar's own cursor movements go to the terminal itself: the stream
            # crm's output goes through escapes every control character (controls.py)
            console=Console(file=getattr(sys.stderr, "unescaped", sys.stderr)),
            transient=True,
            auto_refresh=not self._threadless,
        )
        self._live.start()
        self._task = self._live.add_task(self.description, total=self.total)

    def close(self) -> None:
        self._closed = True
        if self._live is not None:
            self._live.stop()
            self._live = None


class _Quiet(Bar):
    """The bar of a pipe: counts, draws nothing."""

    def _refresh(self) -> None:
        pass


@contextmanager
def progress(
    description: str, total: float | None = None, *, delay: float = DELAY, threadless: bool = False
) -> Iterator[Bar]:
    """A bar for one piece of work; nothing is drawn unless :func:`enabled`.
    ``threadless``: redrawn at each step only, with no refresh thread (for work that
    forks: a threaded process forks no helper)."""
    bar = (Bar if enabled() else _Quiet)(description, total, delay, threadless)
    try:
        yield bar
    finally:
        bar.close()


def track(
    items: Iterable[T], description: str, total: float | None = None, *, delay: float = DELAY
) -> Iterator[T]:
    """Iterate ``items`` with a bar (``total`` defaults to ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(description, total, delay=delay) as bar:
        for item in items:
            yield item
            bar.advance()
