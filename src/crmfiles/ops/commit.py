"""Carry out a planned operation: check it, write it, commit exactly its files.

The order leaves nothing half done.  Everything that can refuse runs before the first
write: git's identity and state, the files being clean, the rules.  Then the files are
written atomically and committed; when git refuses the commit (a hook says no, the
branch moved meanwhile), the files are put back as they were and the error says why.

Without hooks the commit is plumbing (``git.edit_tree`` + ``commit-tree`` +
``update-ref`` with the old value, so a concurrent commit is never lost), and the user's
index then learns our paths so ``git status`` shows them clean.  With commit hooks
installed it is ``git commit --only -- <paths>``, so the hooks run and still only our
paths are committed.  ``--branch`` is always plumbing: the commit goes on a new branch
from HEAD, and the work tree, the index and HEAD are not touched (hooks, which check
the work tree, cannot run for a commit that is not in it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import crmfiles
from crmfiles import git
from crmfiles.background import later
from crmfiles.cache import cache_dir, writing
from crmfiles.check import advanced
from crmfiles.errors import CrmError
from crmfiles.ops.guard import guard
from crmfiles.ops.result import CommitFailed, OpResult
from crmfiles.ops.workspace import Workspace
from crmfiles.records.edit import write_atomic
from crmfiles.rules.base import Context

SHORT = 7


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

    @property
    def message(self) -> str:
        trailers = "".join(f"{key}: {value}\n" for key, value in self.trailers)
        return f"{self.subject}\n\n{trailers}" if trailers else f"{self.subject}\n"


def execute(ws: Workspace, plan: Plan, *, commit: bool = True, branch: bool = False) -> OpResult:
    if branch and not commit:
        raise CrmError("--branch makes a commit; it does not go with --no-commit")
    hooks = bool(ws.repository_state[1]) if commit and not branch else False
    sign = ws.situation.signs if commit else False
    ws.head_blobs(sorted(plan.texts))  # (read here, not raced for by two threads)
    # the commit object needs no decision of the rules: build it on the other core while
    # they run (objects nothing points at yet; git's gc removes them if refused) - not
    # when git would sign it, which may ask the user for a passphrase
    ahead = _Ahead(ws, plan, stage=not branch) if commit and not hooks and not sign else None
    try:
        _preflight(ws, plan, commit=commit, branch=branch)
        committed = ws.head_texts(sorted(plan.texts))
        verdict = guard(
            ws.root,
            plan.texts,
            head=ws.head.commit,
            commit=commit,
            committed=committed,
            what=f"crm {plan.verb} {plan.record}",
            author=ws.author_email,
        )
    except BaseException:
        if ahead is not None:
            ahead.discard()
        raise
    paths = sorted(plan.texts)
    result = OpResult(
        paths=paths,
        commit=None,
        branch=None,
        message="",
        diagnostics=verdict.diagnostics,
        id=plan.record,
        created=sorted(plan.created),
    )
    notes = list(plan.notes)
    if branch:
        made = ahead.result() if ahead is not None else _commit_tree(ws, plan, sign=sign)
        result.branch, result.commit = _commit_to_branch(ws, plan, made.commit)
        done = (
            f"committed {result.commit[:SHORT]} on branch {result.branch}; "
            "your work tree, index and HEAD are unchanged"
        )
        remotes = git.out(["remote"], ws.root).split()
        if remotes:
            remote = "origin" if "origin" in remotes else remotes[0]
            notes.append(f"  for a pull request: git push -u {remote} {result.branch}")
    else:
        try:
            previous = _write(ws.root, plan)
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise
        if commit:
            built = None
            try:
                built = ahead.result() if ahead is not None else None
                # (with a HEAD, the guard checked HEAD plus the edits: the commit itself)
                checked = verdict.context if ws.head.commit else None
                result.commit, warning = _commit(
                    ws, plan, previous, built, sign=sign, checked=checked
                )
            except BaseException:
                if built is not None and built.side is not None:
                    built.side.discard()
                _restore(ws.root, previous)
                raise
            done = f"committed {result.commit[:SHORT]}" + (f" ({warning})" if warning else "")
        else:
            done = "not committed (--no-commit)"
    result.message = "\n".join([f"{plan.summary}, {done}", *notes])
    return result


def _preflight(ws: Workspace, plan: Plan, *, commit: bool, branch: bool) -> None:
    root = ws.root
    for path in plan.created:
        if (root / path).exists() and not branch:
            raise CrmError(f"{path} already exists", hint="give another --id")
    if not commit:
        return
    problem = ws.identity[0]
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
        busy = ws.repository_state[0]
        if busy:
            raise CrmError(
                f"git is in the middle of {busy}; a commit now would get mixed into it",
                hint="finish or abort it first, or pass --no-commit (or --branch)",
            )
    edited = [p for p in plan.texts if p not in plan.created]
    dirty = ws.changed_since_head(edited)
    if dirty:
        path, why = next(iter(sorted(dirty.items())))
        raise CrmError(
            f"{path} {why}; committing would sweep them into the `crm {plan.verb}` commit",
            hint="commit or stash them first, or pass --no-commit to leave this change "
            "uncommitted beside them",
        )


def _write(root: Path, plan: Plan) -> dict[str, bytes | None]:
    """Write the new texts atomically; return what each path held before."""
    previous: dict[str, bytes | None] = {}
    try:
        for path in sorted(plan.texts):
            full = root / path
            previous[path] = full.read_bytes() if full.exists() else None
            write_atomic(full, plan.texts[path])
    except BaseException:
        _restore(root, previous)
        raise
    return previous


def _restore(root: Path, previous: dict[str, bytes | None]) -> None:
    for path, content in previous.items():
        full = root / path
        if content is None:
            full.unlink(missing_ok=True)
            folder = full.parent
            while folder != root and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        else:
            write_atomic(full, content.decode("utf-8"))


def _commit(
    ws: Workspace,
    plan: Plan,
    previous: dict[str, bytes | None],
    made: Built | None,
    *,
    sign: bool,
    checked: Context | None,
) -> tuple[str, str]:
    """Commit the written files (``made``: the commit object, built already unless
    hooks must run or git signs); (commit id, a warning for the user or "").
    ``checked`` is what the guard checked, HEAD with the edits: exactly the commit, so
    the check's cache moves on to it, while git updates the index on the other core."""
    root, paths = ws.root, sorted(plan.texts)
    if made is None and ws.repository_state[1]:
        return _commit_with_hooks(root, plan, [p for p in paths if previous[p] is None]), ""
    parent = ws.head.commit
    built = made if made is not None else _commit_tree(ws, plan, sign=sign)
    new = built.commit
    try:
        git.update_ref(root, "HEAD", new, parent, plan.subject)
    except git.GitError as err:
        raise CommitFailed(
            "HEAD moved while the change was being committed; nothing was committed",
            str(err),
            hint="run the command again",
        ) from None
    waits: list[Callable[[], None]] = []

    def after() -> None:
        """What only the next command needs, done after the answer (a detached process
        from the command line; see crmfiles.background): git's housekeeping, as git
        commit does it, and the check's and the history's caches moved on to the
        commit."""
        save = advanced(checked, built.tree, built.blobs) if checked is not None else None

        def work() -> None:
            directory = cache_dir(root)  # held throughout: a reader waits for all of it
            with writing(directory) if directory is not None else contextlib.nullcontext():
                git.gc_auto(root)
                if save is not None:
                    save()
                if parent is not None and crmfiles.command_line:  # (the TUI keeps its own)
                    from crmfiles.history.build import follow

                    follow(root, parent, new)

        waits.append(later(work))

    warning = ""
    try:
        if built.side is not None and built.side.install():
            after()  # the index was updated beside it while the rules ran
        else:
            git.stage_paths(root, paths, meanwhile=after)
    except git.GitError:
        warning = f"the index still holds the old version: run `git reset -q -- {' '.join(paths)}`"
    finally:
        if not waits:
            after()
        for wait in waits:
            wait()
    return new, warning


class Built(NamedTuple):
    commit: str
    tree: str
    blobs: dict[str, str]  # path -> blob id of each written file
    side: git.SideIndex | None = None  # the index with them, made beside the user's


def _commit_tree(ws: Workspace, plan: Plan, *, sign: bool, stage: bool = False) -> Built:
    """The commit of HEAD's tree with the plan's texts (as git would store them: the
    paths' filters apply), not yet on any branch; with ``stage``, also the user's
    index with those files, beside it (:class:`git.SideIndex`)."""
    parent = ws.head.commit
    side = ws.side_index() if stage else None
    try:
        blobs = git.hash_blobs(ws.root, {p: t.encode("utf-8") for p, t in plan.texts.items()})
    except BaseException:
        if side is not None:
            side.discard()
        raise
    if side is not None:  # git writes the index copy while the trees and the commit are made
        side.update({p: (ws.file_mode(p), blob) for p, blob in blobs.items()})
    try:
        tree = git.edit_tree(ws.root, parent, dict(blobs))
        commit = git.commit_tree(ws.root, tree, [parent] if parent else [], plan.message, sign=sign)
        if side is not None:
            side.finish()
        return Built(commit, tree, blobs, side)
    except git.GitError as err:
        if side is not None:
            side.discard()
        raise CommitFailed(f"git could not make the commit: {err.message}", err.message) from None


def _commit_with_hooks(root: Path, plan: Plan, new_paths: list[str]) -> str:
    paths = sorted(plan.texts)
    if new_paths:  # `git commit --only` takes only paths git knows
        git.run(["add", "--intent-to-add", "--", *new_paths], root)
    proc = git.run(
        ["commit", "--only", "-q", "-F", "-", "--", *paths],
        root,
        input=plan.message.encode(),
        check=False,
    )
    if proc.returncode != 0:
        if new_paths:
            git.run(["rm", "--cached", "-q", "--ignore-unmatch", "--", *new_paths], root)
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        raise CommitFailed(
            "git refused the commit (a hook said no); the files are back as they were",
            output,
            hint="fix what the hook reports, or pass --no-commit to keep the change uncommitted",
        )
    return git.resolve("HEAD", root)


class _Ahead:
    """:func:`_commit_tree` on another thread (git does the work, in its own processes)."""

    def __init__(self, ws: Workspace, plan: Plan, *, stage: bool) -> None:
        self._made: Built | None = None
        self._error: BaseException | None = None
        ws.head  # noqa: B018 - read once here, not raced for by two threads
        self._thread = threading.Thread(target=self._run, args=(ws, plan, stage), daemon=True)
        self._thread.start()

    def _run(self, ws: Workspace, plan: Plan, stage: bool) -> None:
        try:
            self._made = _commit_tree(ws, plan, sign=False, stage=stage)
        except BaseException as err:  # handed to the caller by result()
            self._error = err

    def discard(self) -> None:
        """Wait for it, and drop what it made beside the index."""
        self._thread.join()
        if self._made is not None and self._made.side is not None:
            self._made.side.discard()

    def result(self) -> Built:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._made is not None
        return self._made


def _commit_to_branch(ws: Workspace, plan: Plan, new: str) -> tuple[str, str]:
    root = ws.root
    name, n = plan.branch, 1
    while git.ref_exists(root, f"refs/heads/{name}"):
        n += 1
        name = f"{plan.branch}-{n}"
    try:
        git.update_ref(root, f"refs/heads/{name}", new, None, plan.subject)
    except git.GitError as err:
        raise CommitFailed(
            f"git could not make branch {name}: {err.message}", err.message
        ) from None
    git.gc_auto(root)
    return name, new
