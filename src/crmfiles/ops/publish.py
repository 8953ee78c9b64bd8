"""Making an operation's commit and publishing it: the objects, then HEAD and the index.

The commit object is built while the rules run (:class:`Ahead`: objects nothing
points at yet; git's gc removes them if the operation is refused), with the user's
index updated in a copy beside it (:class:`crmfiles.git.SideIndex`).

Publishing follows git's own protocol, so no other git sees HEAD and the index
disagree: take ``index.lock`` (created exclusively: a ``git commit`` from another
terminal now waits or fails, as it would against another git), fill it with the new
index, move HEAD with ``update-ref`` and the old value (the point of no return: a
commit made meanwhile is never lost, and this one then moves onto it), and rename the
lock over the index.  Before HEAD moves, each step undoes; after, nothing is undone.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from crmfiles import git
from crmfiles.ops.interrupts import Interrupts, checkpoint
from crmfiles.ops.journal import Journal
from crmfiles.ops.result import CommitFailed
from crmfiles.ops.workspace import Workspace


class Built(NamedTuple):
    commit: str
    parent: str | None
    tree: str
    blobs: dict[str, str]  # path -> blob id of each written file
    side: git.SideIndex | None = None  # the index with them, made beside the user's
    removed: tuple[str, ...] = ()  # the paths the commit removes


class HeadMoved(Exception):
    """HEAD is no longer the commit the new one was built on."""

    def __init__(self, head: str | None) -> None:
        super().__init__(head)
        self.head = head


def build(
    ws: Workspace, texts: dict[str, str | None], message: str, *, sign: bool, stage: bool
) -> Built:
    """The commit of HEAD's tree with ``texts`` (as git would store them: the paths'
    filters apply; None: the path is removed), not yet on any branch; with ``stage``,
    also the user's index with those files, beside it."""
    parent = ws.head.commit
    side = ws.side_index() if stage else None
    removed = tuple(sorted(p for p, t in texts.items() if t is None))
    try:
        blobs = git.hash_blobs(
            ws.root, {p: t.encode("utf-8") for p, t in texts.items() if t is not None}
        )
        checkpoint("blob")
    except BaseException:
        if side is not None:
            side.discard()
        raise
    if side is not None:  # git writes the index copy while the trees and the commit are made
        side.update(_entries(ws, blobs, removed))
    try:
        tree = git.edit_tree(ws.root, parent, {**blobs, **dict.fromkeys(removed)})
        checkpoint("tree")
        commit = git.commit_tree(ws.root, tree, [parent] if parent else [], message, sign=sign)
        checkpoint("commit-object")
        if side is not None:
            side.finish()
        return Built(commit, parent, tree, blobs, side, removed)
    except BaseException as err:
        if side is not None:
            side.discard()
        if isinstance(err, git.GitError):
            raise CommitFailed(
                f"git could not make the commit: {err.message}", err.message
            ) from None
        raise


def _entries(
    ws: Workspace, blobs: dict[str, str], removed: tuple[str, ...]
) -> dict[str, tuple[str, str] | None]:
    """The index entries a commit changes: (mode, blob) of each file, None to remove."""
    entries: dict[str, tuple[str, str] | None] = {
        p: (ws.file_mode(p), blob) for p, blob in blobs.items()
    }
    entries.update(dict.fromkeys(removed))
    return entries


class Ahead:
    """:func:`build` on another thread (git does the work, in its own processes)."""

    def __init__(
        self, ws: Workspace, texts: dict[str, str | None], message: str, *, stage: bool
    ) -> None:
        self._made: Built | None = None
        self._error: BaseException | None = None
        ws.head  # noqa: B018 - read once here, not raced for by two threads
        self._thread = threading.Thread(
            target=self._run, args=(ws, dict(texts), message, stage), daemon=True
        )
        self._thread.start()

    def _run(self, ws: Workspace, texts: dict[str, str | None], message: str, stage: bool) -> None:
        try:
            self._made = build(ws, texts, message, sign=False, stage=stage)
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


def publish(
    ws: Workspace, built: Built, subject: str, journal: Journal, signals: Interrupts
) -> str:
    """Move HEAD to ``built`` and the index with it (see the module's docstring);
    a warning for the user, or "".  Raises :class:`HeadMoved` (nothing changed) when
    HEAD is no longer the commit's parent."""
    root = ws.root
    lock = git.IndexLock(ws.situation.index)
    side = built.side
    signals.hold()
    try:
        lock.acquire()
        entries = _entries(ws, built.blobs, built.removed)
        if side is None or not side.into(lock):
            git.index_with(root, lock.index, entries, lock)
        journal.publishing(built.commit, lock.index, lock.identity)
        checkpoint("index-locked")
        if signals.pending is not None:
            raise _Stopped  # a signal before the point of no return: give it all up
        git.update_ref(root, "HEAD", built.commit, built.parent, subject)
    except BaseException as err:
        lock.release()
        if side is not None:
            side.discard()
        signals.release()  # (raises a signal held meanwhile)
        if isinstance(err, git.GitError):
            now = git.head(root).commit
            if now != built.parent:
                raise HeadMoved(now) from None
            raise CommitFailed(
                f"git could not commit: {err.message}; nothing was committed",
                err.message,
                hint=err.hint,
            ) from None
        raise
    # the point of no return: from here the operation finishes, whatever arrives
    checkpoint("ref")
    try:
        lock.commit()
    except OSError as err:
        lock.release()
        paths = " ".join(sorted([*built.blobs, *built.removed]))
        return (
            f"the index could not be updated ({err.strerror}): "
            f"`git reset -q -- {paths}` brings it to the commit"
        )
    checkpoint("index")
    return ""


class _Stopped(Exception):
    """A signal came before HEAD moved (:meth:`Interrupts.release` raises it)."""


def commit_with_hooks(ws: Workspace, paths: list[str], new_paths: list[str], message: str) -> str:
    """``git commit --only``, so that the user's hooks run; git takes the index lock
    and moves HEAD itself, and a Ctrl-C reaches it (it stops a hook, as it would in
    ``git commit``).  A removed path, gone from the work tree and still in the index,
    is committed as removed by ``--only`` itself.  The new commit's id."""
    root = ws.root
    if new_paths:  # `git commit --only` takes only paths git knows
        git.run(["add", "--intent-to-add", "--", *new_paths], root)
    proc = git.run(
        ["commit", "--only", "-q", "-F", "-", "--", *paths],
        root,
        input=message.encode(),
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


def commit_to_branch(ws: Workspace, branch: str, new: str, subject: str) -> str:
    """Point a new branch (``branch``, or ``branch-2``...) at ``new``; its name."""
    root = ws.root
    name, n = branch, 1
    while git.ref_exists(root, f"refs/heads/{name}"):
        n += 1
        name = f"{branch}-{n}"
    try:
        git.update_ref(root, f"refs/heads/{name}", new, None, subject)
    except git.GitError as err:
        raise CommitFailed(
            f"git could not make branch {name}: {err.message}", err.message
        ) from None
    git.gc_auto(root)
    return name
