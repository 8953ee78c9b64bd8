"""Answers given again: the text a read-only command printed, kept under
``.git/crmfiles/answers/`` and printed again while nothing it was made from has
changed.

Listing 100,000 opportunities writes 27 MB of text: formatting it alone takes Python a
third of a second, while git says in less whether the work tree is the one the last
answer was made from (``git write-tree`` and ``git diff-files``, which ``crm validate``
asks as well).  Asking the same question of the same repository again is the usual
case: a salesperson lists, opens a deal, lists again.

An answer is kept only for a work tree that matches its index where records live
(nothing edited, nothing untracked: :meth:`~crmfiles.records.worktree.WorkTree.dirty`
says), and only when the command warned of nothing; it is given again when the
index's tree, HEAD (days in stage come from history), the question (the command's
words, the terminal's width) and the day are the same, and crmfiles' code is.  A
command that asks through here must read nothing else: tests hold a kept answer to a
fresh one through edits, staging, commits, catalog and view changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import marshal
import os
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from crmfiles import __version__, git, notices
from crmfiles.background import later
from crmfiles.records.worktree import WorkTree

Answer = tuple[str | None, str]  # (a table's header line or None, the rest)
# an answer given again: its rest as the UTF-8 bytes to write (see write)
Given = tuple[str | None, str | bytes]
FORMAT = 2
KEPT = 6  # answers kept at most (the last given), beside ...
LARGEST = 96 * 1024 * 1024  # ... a limit on each one's size


def answered(
    source: object,
    question: Sequence[object],
    compute: Callable[[], Answer],
    *,
    detach: bool = False,
) -> Given:
    """``compute()``, or the answer it gave last time to the same ``question`` about
    the same tree.  ``source`` is the repository's source: a work tree's answers are
    kept, any other source's are computed every time."""
    found = source.git_dir if isinstance(source, WorkTree) else None
    if found is None or os.environ.get("CRM_NO_CACHE") or not isinstance(source, WorkTree):
        return compute()
    directory = found / "crmfiles" / "answers"
    path = directory / f"{_name(question)}.marshal"
    source.prefetch()  # git's look at the work tree, its tree and HEAD, while we read
    tree_soon = source.tree_soon()
    head_soon = git.ask(source.root, ["rev-parse", "-q", "--verify", "HEAD"])
    kept = _load(path)
    changed = source.dirty()
    tree = tree_soon()
    status, out, _ = head_soon()[0]
    head = out.decode().strip() if status == 0 else ""
    clean = tree is not None and not changed
    if clean and kept is not None and kept[0] == tree and kept[1] == head:
        with contextlib.suppress(OSError):
            os.utime(path)  # (the newest answers are the ones kept)
        return kept[2], kept[3]
    source.hold_dirty(changed)  # (the reader asks git nothing twice)
    source.know_tree(tree)
    answer = compute()
    if tree is not None and not changed and not notices.pending():
        header, text = answer
        later(lambda: _save(directory, path, (tree, head, header, text)), detach=detach)
    return answer


def write(text: str | bytes) -> None:
    """An answer's text on stdout: a kept one's bytes to the binary stream as they
    are (no character of it needs escaping: only such answers are kept), saving their
    decoding and encoding; text through the stream."""
    if isinstance(text, bytes):
        raw = getattr(sys.stdout, "buffer", None)
        if raw is not None and os.linesep == "\n":
            sys.stdout.flush()
            raw.write(text)
            return
        text = text.decode("utf-8")
    sys.stdout.write(text)


def _name(question: Sequence[object]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(repr((FORMAT, _code(), dt.date.today().isoformat(), *question)).encode())
    return digest.hexdigest()[:24]


@cache
def _code() -> str:
    """crmfiles' version and its code as installed (each module's size and time), so
    an answer made by other code is never given again."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha1(__version__.encode(), usedforsecurity=False)
    for path in sorted(here.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(here)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _load(path: Path) -> tuple[str, str, str | None, bytes] | None:
    try:
        with open(path, "rb") as handle:
            kept = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (
        isinstance(kept, tuple)
        and len(kept) == 4
        and isinstance(kept[0], str)
        and isinstance(kept[1], str)
        and (kept[2] is None or isinstance(kept[2], str))
        and isinstance(kept[3], bytes)
    ):
        return kept
    return None


def _save(directory: Path, path: Path, made: tuple[str, str, str | None, str]) -> None:
    """Keep an answer: one that holds a control character (escaped on its way out)
    or no UTF-8 text is not kept."""
    from crmfiles.controls import CONTROL
    from crmfiles.records.edit import write_bytes_atomic

    tree, head, header, text = made
    if CONTROL.search(text) or (header is not None and CONTROL.search(header)):
        return
    try:
        data = marshal.dumps((tree, head, header, text.encode("utf-8")))
    except UnicodeEncodeError:
        return
    if len(data) > LARGEST:
        return
    write_bytes_atomic(path, data, durable=False)
    answers = sorted(directory.glob("*.marshal"), key=_age, reverse=True)
    for old in answers[KEPT:]:
        old.unlink(missing_ok=True)


def _age(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
