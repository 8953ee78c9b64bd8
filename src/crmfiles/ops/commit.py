"""Carry out a planned operation: a transaction in named phases.

- prepare: take crm's own lock (:class:`crmfiles.ops.journal.CommitLock`), so crm
  commands in one work tree commit one after the other;
- check: git's identity and state, the files clean, HEAD read again (when another
  commit came meanwhile, the edits are moved onto it: :mod:`crmfiles.ops.rebase`),
  and the rules;
- write: the files, atomically, each announced in the journal first; its undo puts
  back only files that still hold what this process wrote;
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
from pathlib import Path

from crmfiles import git
from crmfiles.background import later
from crmfiles.cache import cache_dir, writing
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError
from crmfiles.ops.guard import Verdict, guard
from crmfiles.ops.interrupts import Interrupts, checkpoint
from crmfiles.ops.journal import CommitLock, Journal
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
from crmfiles.records.edit import write_atomic, write_bytes_atomic
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
                _preflight(ws, plan, commit=self.commit, branch=False)
            except CrmError as err:
                problem = err
            answer = asked()[0]
            now = answer.output.decode().strip() or None if answer.status == 0 else None
            if self.commit and now != ws.head.commit:
                if ahead is not None:
                    ahead.discard()
                    ahead = None
                rebase(ws, plan.texts, plan.created, now, removed=plan.removed)
                _preflight(ws, plan, commit=True, branch=False)
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
            previous = _write(ws.root, plan, journal)
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
                kept = _committed_as_written(ws.root, moved.head, plan.files)
                _restore(ws.root, {p: c for p, c in previous.items() if p not in kept}, plan.files)
                journal.end()
                continue  # moved onto the new HEAD at the top
            except BaseException:
                self.signals.undoing()
                _restore(ws.root, previous, plan.files)
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
    _preflight(ws, plan, commit=True, branch=True)
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


def _preflight(ws: Workspace, plan: Plan, *, commit: bool, branch: bool) -> None:
    root = ws.root
    for path in plan.created:
        if (root / path).exists() and not branch:
            raise CrmError(f"{path} already exists", hint="give another --id")
    if plan.removed:  # (its content would be lost, committed or not)
        dirty = ws.changed_since_head(plan.removed)
        if dirty:
            path, why = next(iter(sorted(dirty.items())))
            raise CrmError(
                f"{path} {why}, and `crm {plan.verb}` removes it",
                hint="commit or stash them first",
            )
    if not commit:
        return
    problem = ws.identity.problem
    if problem:
        raise CrmError(
            f"git cannot make a commit here: {problem}",
            hint='set `git config user.name "Your Name"` and `git config user.email '
            "you@example.com`, or pass --no-commit",
        )
    if branch:
        if ws.head.commit is None:
            raise CrmError(
                "--branch starts a branch from HEAD, and this repository has no commit yet"
            )
        if ws.head.ref is None:
            raise CrmError(
                "HEAD is detached: --branch starts the new branch from the current branch",
                hint="check out a branch first (`git switch main`)",
            )
    else:
        busy = ws.repository_state.busy
        if busy:
            raise CrmError(
                f"git is in the middle of {busy}; a commit now would get mixed into it",
                hint="finish or abort it first, or pass --no-commit (or --branch)",
            )
    edited = [p for p in plan.files if p not in plan.created]
    dirty = ws.changed_since_head(edited)
    if dirty:
        path, why = next(iter(sorted(dirty.items())))
        raise CrmError(
            f"{path} {why}; committing would sweep them into the `crm {plan.verb}` commit",
            hint="commit or stash them first, or pass --no-commit to leave this change "
            "uncommitted beside them",
        )


def _write(root: Path, plan: Plan, journal: Journal) -> dict[str, bytes | None]:
    """Write the new texts atomically and remove the removed files, announced in the
    journal first; return what each path held before."""
    files = plan.files
    paths = sorted(files)
    ours = {p: _encoded(files[p]) for p in paths}
    before: dict[str, bytes | None] = {}
    for path in paths:
        full = root / path
        before[path] = full.read_bytes() if full.exists() else None
    journal.writing({p: (before[p], ours[p]) for p in paths})
    previous: dict[str, bytes | None] = {}
    try:
        for path in paths:
            previous[path] = before[path]
            text = files[path]
            if text is None:
                (root / path).unlink(missing_ok=True)
            else:
                write_atomic(root / path, text)
    except BaseException:
        _restore(root, previous, files)
        journal.end()
        raise
    return previous


def _encoded(text: str | None) -> bytes | None:
    return text.encode("utf-8") if text is not None else None


def _committed_as_written(root: Path, head: str | None, files: dict[str, str | None]) -> set[str]:
    """The paths whose version at ``head`` is the text written for them (for a
    removed path: that ``head`` has no such file either)."""
    if head is None:
        return set()
    blobs = {e.path: e.blob for e in git.ls_tree(head, root, sorted(files))}
    contents = dict(git.cat_blobs(sorted(set(blobs.values())), root))
    gone = {p for p, text in files.items() if text is None and p not in blobs}
    same = {
        p
        for p, b in blobs.items()
        if files[p] is not None and contents.get(b) == _encoded(files[p])
    }
    return gone | same


def _restore(root: Path, previous: dict[str, bytes | None], files: dict[str, str | None]) -> None:
    """Put back what ``previous`` says the paths held, where they still hold what this
    process wrote, or are still gone where it removed them (another process may have
    written one since: its file stays)."""
    for path, content in previous.items():
        full = root / path
        try:
            now = full.read_bytes()
        except FileNotFoundError:
            now = None
        if now is not None and now != _encoded(files[path]):
            continue
        if content is None:
            full.unlink(missing_ok=True)
            folder = full.parent
            while folder != root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        elif now is not None or files[path] is None:
            write_bytes_atomic(full, content)
