"""The work after an operation's commit, as hooks the commit calls
(:class:`crmfiles.runtime.Runtime` carries them): the check's cache and the
history's cache moved on to the new commit, so the next command reads nothing."""

from __future__ import annotations

from collections.abc import Callable

from crmfiles.runtime import AfterCommit, Committed, Runtime


def check_cache(done: Committed, runtime: Runtime) -> Callable[[], None] | None:
    """The check's cache: what the guard checked is exactly the commit."""
    if done.checked is None or done.tree is None:
        return None
    from crmfiles.cachework import advanced

    return advanced(done.checked, done.tree, done.blobs)


def history_cache(done: Committed, runtime: Runtime) -> Callable[[], None] | None:
    if done.parent is None or not runtime.follow_history:
        return None
    root, parent, commit = done.root, done.parent, done.commit

    def work() -> None:
        from crmfiles.history.build import follow

        follow(root, parent, commit)

    return work


STANDARD: tuple[AfterCommit, ...] = (check_cache, history_cache)
