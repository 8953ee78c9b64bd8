"""Interrupts during a commit, and the test hook that holds a commit between phases.

Before the point of no return (HEAD moved to the new commit), Ctrl-C or SIGTERM
interrupts the operation, which undoes what it did; from the moment crm takes git's
index lock to publish, a signal is held until the operation knows its outcome: when
HEAD did not move it is then raised (and the operation undone), when it did the
operation finishes and says so.  A second signal during an undo waits for the undo.
Signal handlers belong to the main thread: elsewhere (the TUI's workers) nothing is
installed and nothing changes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType, TracebackType

# Test hook, not for users: ``CRM_TEST_PAUSE_AT=<phase>[:<fifo>]`` holds a commit at a
# named phase until the test opens the FIFO and closes it (without a FIFO: sleeps
# ``CRM_TEST_PAUSE_SECONDS``), so a test can race a git command against it or send it
# a signal there.  The phases, in order: blob, tree, commit-object (built beside the
# check, on a thread), prepare, locked, checked, written, index-locked, ref, index.
PAUSE_AT = os.environ.get("CRM_TEST_PAUSE_AT", "")


_PAUSED: list[str] = []


def checkpoint(phase: str) -> None:
    if not PAUSE_AT or PAUSE_AT.partition(":")[0] != phase or _PAUSED:
        return
    _PAUSED.append(phase)  # (once: a phase tried again after a commit meanwhile goes on)
    fifo = PAUSE_AT.partition(":")[2]
    if fifo:
        with open(fifo, "rb") as handle:  # blocks until the test opens it to write
            handle.read()  # ... and until it closes it
    else:
        time.sleep(float(os.environ.get("CRM_TEST_PAUSE_SECONDS", "5")))


class Interrupted(KeyboardInterrupt):
    """A signal stopped the operation before its commit; nothing of it is left."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Signals during one operation (see the module's docstring)."""

    def __init__(self) -> None:
        self.pending: int | None = None  # a signal held, not acted on yet
        self.holding = False
        self._raised = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.holding or self._raised:
            self.pending = self.pending or signum
            return
        self._raised = True  # (what follows is the undo: the next signal waits for it)
        raise Interrupted(signum)

    def hold(self) -> None:
        """From here, a signal waits for :meth:`release` or the end of the operation."""
        self.holding = True

    def release(self) -> None:
        """The point of no return was not passed: act on a signal held meanwhile."""
        self.holding = False
        if self.pending is not None and not self._raised:
            self._raised = True
            raise Interrupted(self.pending)

    def undoing(self) -> None:
        """An undo begins: a signal now waits for it."""
        self._raised = True
