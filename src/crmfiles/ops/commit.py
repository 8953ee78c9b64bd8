"""Carry out a planned operation: a transaction in named phases.

- prepare: take crm's own lock (:class:`crmfiles.ops.journal.CommitLock`), so crm
  commands in one work tree commit one after the other;
- check: git's identity and state, the files clean (:mod:`crmfiles.ops.preflight`),
  HEAD read again (when another commit came meanwhile, the edits are moved onto it:
  :mod:`crmfiles.ops.rebase`), and the rules;
- write: the files, atomically, each announced in the journal first; its undo puts
  back only files that still hold what this process wrote (:mod:`crmfiles.ops.writes`);
- publish: HEAD and the index together, under git's index lock
  (:func:`crmfiles.ops.publish.publish`) - the point of no return;
- after: the journal and the lock go, and the after-commit hooks of the runtime (the
  caches) run after the answer.

Each phase before publish has its own undo, and a failure or a signal there undoes
everything (:mod:`crmfiles.ops.interrupts`); nothing is undone after it, and an
interrupt that arrives then waits for the operation to finish.  A process killed at
any point leaves a journal from which the next command finishes or undoes it
(:mod:`crmfiles.ops.leftovers`).

A plan may also remove files (``crm merge`` drops a duplicate): a removed file must be
unchanged since HEAD; the write phase unlinks it (the journal keeps its bytes, so an
undo, or the next command after a kill, puts it back), and the commit and the index
lose its entry.  With ``--no-commit`` the file is gone from the work tree and nothing
is staged, as with every other operation.

With commit hooks installed the commit is ``git commit --only -- <paths>``, so the
hooks run and still only our paths are committed.  ``--branch`` is plumbing only: the
commit goes on a new branch from HEAD, and the work tree, the index and HEAD are not
touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from crmfiles import git
from crmfiles.background import later
from crmfiles.cache import cache_dir, writing
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.ops.guard import Verdict, guard
from crmfiles.ops.interrupts import Interrupts, checkpoint
from crmfiles.ops.journal import CommitLock, Journal
from crmfiles.ops.preflight import preflight
from crmfiles.ops.publish import (
    Ahead,
    Built,
    HeadMoved,
    build,
    commit_to_branch,
    commit_with_hooks,
    publish,
)
from crmfiles.ops.rebase import rebase
from crmfiles.ops.result import CommitFailed, OpResult
from crmfiles.ops.workspace import Workspace
from crmfiles.ops.writes import committed_as_written, restore_files, write_files
from crmfiles.runtime import Committed

SHORT = 7
ATTEMPTS = 5  # commits made by others meanwhile that an operation moves onto


def subject(verb: str, *words: str) -> str:
    """A crm commit's first line: ``crm: <verb> <words>`` (``crm history``, the
    reviewers and scripts read it; every operation words it here)."""
    return " ".join(["crm:", verb, *(w for w in words if w)])


def branch_for(record: str, what: str) -> str:
    """The branch ``--branch`` makes: ``crm/<record>-<what>``."""
    return f"crm/{record}-{what.replace(' ', '-')}"


@dataclass
class Plan:
    """An operation's edits, before anything is written."""

    verb: str  # move, close, new...
    record: str  # the id the operation is about
    texts: dict[str, str]  # path -> the file's new text
    created: list[str]  # the paths among ``texts`` that are new files
    subject: str  # the commit's first line
    trailers: list[tuple[str, str]]
    branch: str  # the branch name --branch uses: crm/<id>-<what>
    summary: str  # what happened, for a person
    notes: list[str] = field(default_factory=list)  # more lines for a person
    # what the planner has to say besides the rules (a name close to another's)
    warnings: list[Diagnostic] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # files the operation deletes
    # what the person named, when the record is one the operation creates (the quote a
    # revision or an order is made from): a refusal names that, not a number it never got
    asked: str | None = None

    @property
    def what(self) -> str:
        """The command as a refusal names it."""
        if self.asked is None:
            return f"crm {self.verb} {self.record}"
        return f"crm {self.verb} {self.asked} (would create {self.record})"

    @property
    def files(self) -> dict[str, str | None]:
        """Every path the operation changes: its new text, or None when removed."""
        return {**self.texts, **dict.fromkeys(self.removed)}

    @property
    def message(self) -> str:
        trailers = "".join(f"{key}: {value}\n" for key, value in self.trailers)
        return f"{self.subject}\n\n{trailers}" if trailers else f"{self.subject}\n"


def execute(ws: Workspace, plan: Plan, *, commit: bool = True, branch: bool = False) -> OpResult:
    if branch and not commit:
        raise CrmError("--branch makes a commit; it does not go with --no-commit")
    if branch:
        return _said(ws, _on_branch(ws, plan))
    hooks = bool(ws.repository_state.hooks) if commit else False
    sign = ws.situation.signs if commit else False
    ws.head_blobs(sorted(plan.files))  # (read here, not raced for by two threads)
    # the commit object needs no decision of the rules: build it on the other core while
    # they run - not when git would sign it, which may ask the user for a passphrase
    ahead = (
        Ahead(ws, plan.files, plan.message, stage=True)
        if commit and not hooks and not sign
        else None
    )
    lock = CommitLock(ws.git_dir)
    with Interrupts() as signals:
        try:
            checkpoint("prepare")
            lock.acquire()
            checkpoint("locked")
            step = _Steps(ws, plan, signals, commit=commit, hooks=hooks, sign=sign)
            result, after = step.run(ahead)
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise
        finally:
            lock.release()
        if after is not None:
            after()
        if signals.pending is not None:
            result.message += "\n  (interrupted after the commit was made: the command finished it)"
    return _said(ws, result)


def _said(ws: Workspace, result: OpResult) -> OpResult:
    """The result, with what was repaired of a killed command before this one."""
    result.message = "\n".join([result.message, *ws.repaired])
    return result


class _Steps:
    """The phases from check to publish, tried again on top of a commit made meanwhile."""

    def __init__(
        self,
        ws: Workspace,
        plan: Plan,
        signals: Interrupts,
        *,
        commit: bool,
        hooks: bool,
        sign: bool,
    ) -> None:
        self.ws, self.plan, self.signals = ws, plan, signals
        self.commit, self.hooks, self.sign = commit, hooks, sign

    def run(self, ahead: Ahead | None) -> tuple[OpResult, Callable[[], None] | None]:
        ws, plan = self.ws, self.plan
        for _ in range(ATTEMPTS):
            # HEAD again, now that no other crm command commits (asked while the files
            # are looked at: against a HEAD that moved they may look changed)
            asked = git.ask(ws.root, ["rev-parse", "-q", "--verify", "HEAD^{commit}"])
            problem: CrmError | None = None
            try:
                preflight(ws, plan, commit=self.commit, branch=False)
            except CrmError as err:
                problem = err
            answer = asked()[0]
            now = answer.output.decode().strip() or None if answer.status == 0 else None
            if self.commit and now != ws.head.commit:
                if ahead is not None:
                    ahead.discard()
                    ahead = None
                rebase(ws, plan.texts, plan.created, now, removed=plan.removed)
                preflight(ws, plan, commit=True, branch=False)
            elif problem is not None:
                raise problem
            verdict = guard(
                ws.root,
                plan.files,
                head=ws.head.commit,
                commit=self.commit,
                committed=ws.head_texts(sorted(plan.files)),
                what=plan.what,
                author=ws.author_email,
                runtime=ws.runtime,
            )
            checkpoint("checked")
            journal = Journal.begin(
                ws.git_dir, f"crm {plan.verb} {plan.record}", ws.head.commit, plan.subject
            )
            previous = write_files(ws.root, plan, journal)
            try:
                checkpoint("written")
                if not self.commit:
                    journal.end()
                    return self._result(verdict, None, "not committed (--no-commit)"), None
                made = ahead
                ahead = None
                new, warning, built = self._publish(made, journal)
            except HeadMoved as moved:
                # (a `git commit -a` meanwhile may have committed our files as we wrote
                # them: those stay, and the check at the top sees the change made)
                kept = committed_as_written(ws.root, moved.head, plan.files)
                restore_files(
                    ws.root, {p: c for p, c in previous.items() if p not in kept}, plan.files
                )
                journal.end()
                continue  # moved onto the new HEAD at the top
            except BaseException:
                self.signals.undoing()
                restore_files(ws.root, previous, plan.files)
                journal.end()
                raise
            journal.end()
            done = f"committed {new[:SHORT]}" + (f" ({warning})" if warning else "")
            result = self._result(verdict, new, done)
            return result, self._after(built, new, verdict)
        raise CommitFailed(
            f"HEAD moved {ATTEMPTS} times while the change was being committed; "
            "nothing was committed",
            hint="run the command again when the other commits are done",
        )

    def _publish(self, ahead: Ahead | None, journal: Journal) -> tuple[str, str, Built | None]:
        ws, plan = self.ws, self.plan
        if ahead is None and self.hooks:
            self.signals.hold()
            new_paths = [p for p in plan.created]
            try:
                new = commit_with_hooks(ws, sorted(plan.files), new_paths, plan.message)
            except BaseException:
                self.signals.release()  # (raises a signal held meanwhile)
                raise
            return new, "", None
        if ahead is not None:
            built = ahead.result()
        else:
            built = build(ws, plan.files, plan.message, sign=self.sign, stage=False)
        return built.commit, publish(ws, built, plan.subject, journal, self.signals), built

    def _result(self, verdict: Verdict, commit: str | None, done: str) -> OpResult:
        plan = self.plan
        return OpResult(
            paths=sorted(plan.files),
            commit=commit,
            branch=None,
            message="\n".join([f"{plan.summary}, {done}", *plan.notes]),
            diagnostics=[*plan.warnings, *verdict.diagnostics],
            id=plan.record,
            created=sorted(plan.created),
            removed=sorted(plan.removed),
        )

    def _after(self, built: Built | None, new: str, verdict: Verdict) -> Callable[[], None]:
        """The after-commit hooks' work, and git's housekeeping (plumbing commits never
        trigger it), started after the answer: by a detached process from the command
        line (see crmfiles.background), else on a thread that is waited for."""
        ws = self.ws
        root, runtime = ws.root, ws.runtime
        done = Committed(
            root,
            built.parent if built is not None else ws.head.commit,
            new,
            built.tree if built is not None else None,
            dict(built.blobs) if built is not None else {},
            # (with a HEAD, the guard checked HEAD plus the edits: the commit itself;
            # the check's cache is moved on only by edits, a removal is read again)
            verdict.context if ws.head.commit and not self.plan.removed else None,
        )
        works = []
        for hook in runtime.after_commit:
            with contextlib.suppress(Exception):  # (a cache is never worth an error)
                work = hook(done, runtime)
                if work is not None:
                    works.append(work)

        def run() -> None:
            directory = cache_dir(root)  # held throughout: a reader waits for all of it
            with writing(directory) if directory is not None else contextlib.nullcontext():
                git.gc_auto(root)
                for each in works:
                    each()

        def start() -> None:
            later(run, detach=runtime.detach)()

        return start


def _on_branch(ws: Workspace, plan: Plan) -> OpResult:
    """``--branch``: check, commit on a new branch from HEAD; nothing else changes."""
    preflight(ws, plan, commit=True, branch=True)
    verdict = guard(
        ws.root,
        plan.files,
        head=ws.head.commit,
        commit=True,
        committed=ws.head_texts(sorted(plan.files)),
        what=plan.what,
        author=ws.author_email,
        runtime=ws.runtime,
    )
    made = build(ws, plan.files, plan.message, sign=ws.situation.signs, stage=False)
    name = commit_to_branch(ws, plan.branch, made.commit, plan.subject)
    notes = list(plan.notes)
    remotes = git.out(["remote"], ws.root).split()
    if remotes:
        remote = "origin" if "origin" in remotes else remotes[0]
        notes.append(f"  for a pull request: git push -u {remote} {name}")
    done = (
        f"committed {made.commit[:SHORT]} on branch {name}; "
        "your work tree, index and HEAD are unchanged"
    )
    return OpResult(
        paths=sorted(plan.files),
        commit=made.commit,
        branch=name,
        message="\n".join([f"{plan.summary}, {done}", *notes]),
        diagnostics=[*plan.warnings, *verdict.diagnostics],
        id=plan.record,
        created=sorted(plan.created),
        removed=sorted(plan.removed),
    )
