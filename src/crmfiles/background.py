"""Work that only makes the next command faster (writing a cache), done after this
command has answered: by a detached process from the command line, as git does its gc,
else on a thread."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable


def later(work: Callable[[], None], *, detach: bool) -> Callable[[], None]:
    """Start ``work``: in a detached process when ``detach`` (and this process has one
    thread), else on a thread; return what waits for it (nothing to wait for when a
    detached process does it).  ``work`` must not raise what matters: a cache is never worth
    an error, so everything it raises is dropped."""

    def quietly() -> None:
        with contextlib.suppress(Exception):
            work()

    where = _detach() if detach else None
    if where == "child":
        try:
            quietly()
        finally:
            os._exit(0)
    if where == "parent":
        return nothing
    thread = threading.Thread(target=quietly, daemon=True)
    thread.start()
    _RUNNING.append(thread)
    return thread.join


_RUNNING: list[threading.Thread] = []


def wait() -> None:
    """Wait for the work :func:`later` left on threads (before a process exits)."""
    while _RUNNING:
        _RUNNING.pop().join()


_KEPT: list[object] = []


def keep(thing: object) -> None:
    """Hold ``thing`` until the process ends (for a process that ends with
    ``os._exit``): freeing a check's objects one by one as the last reference to them
    goes (tens of milliseconds for a snapshot of 100,000 paths) is work for nobody."""
    _KEPT.append(thing)


def nothing() -> None:
    return None


def _detach() -> str | None:
    """Fork a process that outlives this one, with no terminal and no pipes of ours
    (a reader waiting for our output must not wait for it): "child" in that process,
    "parent" in this one, None when it cannot be done (forking a process with more
    than one thread can deadlock the child)."""
    if threading.active_count() != 1 or not hasattr(os, "fork"):
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return "parent"
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, 256)
    except OSError:
        os._exit(0)
    return "child"
