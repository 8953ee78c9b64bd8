"""The TUI's background work, under :class:`~crmfiles.tui.app.CrmApp`: loading the
snapshot (the first screen's folders first, the rest after the first frame), noticing
changes made elsewhere (polling the work tree) and reloading, running operations; and
the messages the thread workers post back.

Everything slow (reading 10,000 records, git, committing) runs in thread workers
that report back with messages; the UI thread only swaps in what they built.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.message import Message
from textual.reactive import var

from crmfiles.errors import CrmError
from crmfiles.records.store import Record
from crmfiles.tui import ops
from crmfiles.tui.data import Today, TuiSnapshot
from crmfiles.tui.gitstate import GitState, read_state, tree_fingerprint
from crmfiles.tui.rows import Turns
from crmfiles.tui.snapshot_rows import patched

Reply = Callable[[ops.Outcome], None]


class Loaded(Message):
    def __init__(self, snapshot: TuiSnapshot, fingerprint: object, started: int):
        super().__init__()
        self.snapshot = snapshot
        self.fingerprint = fingerprint
        self.started = started


class Identified(Message):
    def __init__(self, email: str | None) -> None:
        super().__init__()
        self.email = email


class Fingerprinted(Message):
    def __init__(self, fingerprint: object) -> None:
        super().__init__()
        self.fingerprint = fingerprint


class RestRead(Message):
    def __init__(self, records: dict[str, dict[str, Record]]) -> None:
        super().__init__()
        self.records = records


class GitRead(Message):
    def __init__(self, state: GitState) -> None:
        super().__init__()
        self.state = state


class LoadFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class DaysLoaded(Message):
    def __init__(self, days: dict[str, int]) -> None:
        super().__init__()
        self.days = days


class Polled(Message):
    def __init__(self, state: GitState, fingerprint: object, reload: bool) -> None:
        super().__init__()
        self.state = state
        self.fingerprint = fingerprint
        self.reload = reload


class OpFinished(Message):
    def __init__(
        self,
        label: str,
        outcome: ops.Outcome,
        snapshot: TuiSnapshot | None,
        state: GitState | None,
        fingerprint: object,
        reply: Reply | None,
    ) -> None:
        super().__init__()
        self.label = label
        self.outcome = outcome
        self.snapshot = snapshot
        self.state = state
        self.fingerprint = fingerprint
        self.reply = reply


def history_days(root: Path, today: dt.date) -> dict[str, int]:
    """Days in the current stage per opportunity, from git (cached by commit)."""
    from crmfiles.history import days_in_stage

    return days_in_stage(root, today=today)


class BackgroundApp(App[int]):
    """The app's state as its workers fill it in (the screens watch it), and the
    workers: load, poll, reload, run an operation."""

    snapshot: var[TuiSnapshot | None] = var(None, always_update=True)
    git_state: var[GitState] = var(GitState(), always_update=True)
    branch_mode: var[bool] = var(False)
    busy: var[str] = var("")
    me: var[str | None] = var(None)
    author_email: var[str | None] = var(None)  # what git records as the author

    def __init__(
        self,
        root: Path,
        *,
        today: Today | None = None,
        poll_interval: float | None = 2.0,
    ) -> None:
        super().__init__()
        self.root = root
        self.today: Today = today or dt.date.today
        self.poll_interval = poll_interval
        self._fingerprint: object = None
        self._email: str | None = None
        self._first_load = True
        # a key worked on first: the other folders' reader waits meanwhile
        self.turns = Turns()

    # --- loading ----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.load()
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        """The first load reads what the first screen shows and leaves the rest (git
        state, other folders, history) until it is drawn; a reload reads it all.
        (Reading on another thread while Textual starts was slower: they fight over
        the GIL.)"""
        first, self._first_load = self._first_load, False
        started = time.time_ns()
        try:
            snapshot = TuiSnapshot.load(self.root, first=first)
            fingerprint = None if first else tree_fingerprint(self.root, since_ns=started)
        except CrmError as err:
            self.post_message(LoadFailed(err.message))
            return
        except Exception as exc:  # a message on the screen, never a silent hang
            self.post_message(LoadFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Loaded(snapshot, fingerprint, started))

    @work(thread=True, exclusive=True, group="rest", exit_on_error=False)
    def read_rest(self, partial: bool, started: int) -> None:
        """After the first frame: who I am, git's state, the fingerprint to poll
        against, the folders the first screen did not need, the days in stage."""
        from crmfiles.lint import _author_email

        # the e-mail git records as the author, as lint judges it (GIT_AUTHOR_EMAIL too)
        self.post_message(Identified(_author_email(self.root)))
        self.post_message(GitRead(read_state(self.root)))
        self.post_message(Fingerprinted(tree_fingerprint(self.root, since_ns=started)))
        if partial:
            self.post_message(RestRead(TuiSnapshot.rest(self.root, self.turns.wait)))
        self.post_message(DaysLoaded(history_days(self.root, self.today())))

    @on(Identified)
    def _identified(self, message: Identified) -> None:
        self._email = message.email
        self.author_email = message.email
        if self.snapshot is not None:
            self.me = self.snapshot.me(message.email)

    @on(Fingerprinted)
    def _fingerprinted(self, message: Fingerprinted) -> None:
        self._fingerprint = message.fingerprint

    @on(RestRead)
    def _rest_read(self, message: RestRead) -> None:
        if self.snapshot is not None:
            self.snapshot = self.snapshot.with_folders(message.records)
            gc.freeze()

    @on(GitRead)
    def _git_read(self, message: GitRead) -> None:
        self.git_state = message.state

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        snapshot = message.snapshot
        if self.snapshot is not None and self.snapshot.days:
            snapshot = snapshot.with_days(self.snapshot.days)
        self.me = snapshot.me(self._email)
        self.snapshot = snapshot
        # tens of thousands of long-lived record objects: keep the cyclic GC from
        # walking them on every full collection (pauses of a fifth of a second)
        gc.freeze()
        self.sub_title = snapshot.repo.config.name or str(self.root)
        if snapshot.partial:
            self.call_after_refresh(self.read_rest, True, message.started)
        else:
            self._fingerprint = message.fingerprint
            self.load_days()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.notify(
            message.message, title="Cannot read the repository", severity="error", markup=False
        )

    @work(thread=True, exclusive=True, group="days", exit_on_error=False)
    def load_days(self) -> None:
        self.post_message(DaysLoaded(history_days(self.root, self.today())))

    @on(DaysLoaded)
    def _days_loaded(self, message: DaysLoaded) -> None:
        if self.snapshot is not None and message.days != self.snapshot.days:
            self.snapshot = self.snapshot.with_days(message.days)

    # --- noticing changes made elsewhere ----------------------------------------------

    def poll(self) -> None:
        busy = any(w.group in ("ops", "load", "poll") and w.is_running for w in self.workers)
        if not busy and self.snapshot is not None:
            self._poll(self._fingerprint)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self, known: object) -> None:
        fingerprint = tree_fingerprint(self.root)
        if fingerprint == known:
            return
        state = read_state(self.root)
        self.post_message(Polled(state, fingerprint, reload=True))

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        self._fingerprint = message.fingerprint
        self.git_state = message.state
        if message.reload:
            self.load()

    # --- operations -------------------------------------------------------------------

    def run_op(
        self, label: str, name: str, /, *args: Any, reply: Reply | None = None, **kwargs: Any
    ) -> bool:
        """Run ``crmfiles.ops.<name>(root, *args, **kwargs)`` on a worker thread;
        False when another operation is still running."""
        if self.busy:
            self.notify(f"Still busy: {self.busy}", severity="warning")
            return False
        self.busy = label
        self._op(label, name, args, kwargs, reply)
        return True

    @work(thread=True, group="ops", exit_on_error=False)
    def _op(
        self,
        label: str,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reply: Reply | None,
    ) -> None:
        outcome = ops.call(name, self.root, *args, branch=self.branch_mode, **kwargs)
        snapshot = state = fingerprint = None
        if outcome.ok and self.snapshot is not None:
            # the fingerprint before reading the changed files back: a change made
            # elsewhere after it shows at the next poll
            fingerprint = tree_fingerprint(self.root)
            snapshot = patched(self.snapshot, outcome.paths)
            state = read_state(self.root)
        self.post_message(OpFinished(label, outcome, snapshot, state, fingerprint, reply))

    @on(OpFinished)
    def _op_finished(self, message: OpFinished) -> None:
        self.busy = ""
        outcome = message.outcome
        if message.state is not None:
            self.git_state = message.state
            self._fingerprint = message.fingerprint
        if message.snapshot is not None:
            self.snapshot = message.snapshot.with_days(self.snapshot.days if self.snapshot else {})
            self.load_days()
        if outcome.ok:
            where = f" (on branch {outcome.branch})" if outcome.branch else ""
            self.notify(f"{outcome.message}{where}", title=message.label, markup=False)
            warnings = [d for d in outcome.diagnostics if d.severity == "warning"]
            if warnings:  # what CI will say of this commit, said now
                self.notify(
                    "\n".join(f"{d.message} [{d.rule}]" for d in warnings),
                    title=f"{message.label}: warnings",
                    severity="warning",
                    timeout=12,
                    markup=False,
                )
        elif message.reply is None:
            self.notify(
                outcome.details,
                title=f"{message.label}: refused",
                severity="error",
                timeout=12,
                markup=False,
            )
        if message.reply is not None:
            message.reply(outcome)
