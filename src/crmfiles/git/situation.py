"""What an operation asks git before it commits: HEAD, who commits, what git is in
the middle of, its hooks, whether it signs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from crmfiles.git.process import Answer, GitError, ask

HOOK_NAMES = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
}


@dataclass(frozen=True, slots=True)
class Head:
    commit: str | None  # None: no commit yet (an unborn branch)
    ref: str | None  # refs/heads/<branch>; None when HEAD is detached


class Identity(NamedTuple):
    problem: str | None  # why git could not commit for want of a name or e-mail
    email: str | None  # the author's e-mail git would record


class RepoState(NamedTuple):
    busy: str | None  # what git is in the middle of ("a merge"...), or None
    hooks: list[str]  # the commit hooks git would run


_HEAD = (["symbolic-ref", "-q", "HEAD"], ["rev-parse", "--verify", "-q", "HEAD^{commit}"])
_IDENTITY = (["var", "GIT_AUTHOR_IDENT"], ["var", "GIT_COMMITTER_IDENT"])
_STATE = (
    [
        "rev-parse",
        "--absolute-git-dir",
        *(a for name in [*_IN_PROGRESS, "hooks", "index"] for a in ("--git-path", name)),
    ],
)
_SIGN = (["config", "--type=bool", "--get", "commit.gpgSign"],)


class _Answers(NamedTuple):
    """The answers a :class:`Situation` asks for, in the order asked."""

    head_ref: Answer
    head_commit: Answer
    author: Answer
    committer: Answer
    paths: Answer  # the git directory, then the --git-path questions
    sign: Answer


class Situation:
    """What an operation asks git before it commits - HEAD, who commits, what git is
    in the middle of, its hooks, whether it signs - asked all at once when made (six
    processes side by side, while the operation reads its record)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._answers: _Answers | None = None
        self._lock = threading.Lock()  # (asked from an operation's threads too)
        self._wait: Callable[[], list[Answer]] | None
        try:
            self._wait = ask(cwd, *_HEAD, *_IDENTITY, *_STATE, *_SIGN)
        except GitError as err:  # said when an answer is needed, not before
            problem = err

            def fail() -> list[Answer]:
                raise problem

            self._wait = fail

    def _get(self) -> _Answers:
        with self._lock:
            if self._wait is not None:
                wait, self._wait = self._wait, None
                self._answers = _Answers(*wait())
            assert self._answers is not None
            return self._answers

    @property
    def head(self) -> Head:
        answers = self._get()
        return _head(answers.head_ref, answers.head_commit)

    @property
    def identity(self) -> Identity:
        answers = self._get()
        return _identity(answers.author, answers.committer)

    @property
    def state(self) -> RepoState:
        return _state(self._paths())

    @property
    def git_dir(self) -> Path:
        """The repository's git directory (a worktree's own, in a worktree)."""
        return self._paths()[0]

    @property
    def index(self) -> Path:
        """The index file (``GIT_INDEX_FILE`` honoured)."""
        return self._paths()[-1]

    def _paths(self) -> list[Path]:
        status, output, errors = self._get().paths
        if status != 0:
            raise GitError(errors.decode("utf-8", "replace").strip() or "git rev-parse failed")
        return _paths(self.cwd, output.decode("utf-8", "surrogateescape"))

    @property
    def signs(self) -> bool:
        """Whether git signs commits here (``commit.gpgSign``)."""
        return self._get().sign.output.decode().strip() == "true"


def head(cwd: Path) -> Head:
    return _head(*ask(cwd, *_HEAD)())


def _head(ref: Answer, commit: Answer) -> Head:
    return Head(
        commit.output.decode().strip() or None if commit.status == 0 else None,
        ref.output.decode().strip() or None if ref.status == 0 else None,
    )


def _paths(cwd: Path, text: str) -> list[Path]:
    return [Path(p) if Path(p).is_absolute() else cwd / p for p in text.splitlines()]


def _state(paths: list[Path]) -> RepoState:
    _git_dir, *states, hooks, _index = paths
    busy = next(
        (what for path, what in zip(states, _IN_PROGRESS.values(), strict=True) if path.exists()),
        None,
    )
    runs = [
        name for name in HOOK_NAMES if (hooks / name).is_file() and os.access(hooks / name, os.X_OK)
    ]
    return RepoState(busy, runs)


def _identity(author: Answer, committer: Answer) -> Identity:
    for answer in (author, committer):
        if answer.status != 0:
            lines = answer.errors.decode("utf-8", "replace").strip().splitlines()
            return Identity(lines[-1].removeprefix("fatal: ") if lines else "no git identity", None)
    ident = author.output.decode("utf-8", "replace")
    email = ident.partition("<")[2].partition(">")[0] if "<" in ident else None
    return Identity(None, email or None)


def find_git_dir(root: Path) -> Path | None:
    """The git directory of the work tree at ``root``, found without asking git (a
    ``.git`` folder, or a ``.git`` file naming it, as in a worktree); None otherwise."""
    dot = root / ".git"
    if os.environ.get("GIT_DIR"):
        return None
    if dot.is_dir():
        return dot
    try:
        line = dot.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir: "):
        return None
    found = Path(line.removeprefix("gitdir: "))
    return found if found.is_absolute() else (root / found).resolve()
