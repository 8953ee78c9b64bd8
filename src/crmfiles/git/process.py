"""Running git: one command and its answer, or several side by side.

Every git process crm starts goes through here (``GIT_*`` variables pass through, so
hooks that set ``GIT_INDEX_FILE`` are honoured)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from crmfiles.errors import CrmError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO = "0" * 40  # "no object": a ref that must not exist yet


class GitError(CrmError):
    pass


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    own_group: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Run git and wait for it; ``own_group`` starts it in a process group of its own,
    so a Ctrl-C at the terminal reaches crm (which decides) and not git."""
    full_env = None
    if env is not None:
        full_env = {**os.environ, **env}
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=full_env,
            process_group=0 if own_group else None,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
        raise GitError(message)
    return proc


class Answer(NamedTuple):
    """A git command's exit status, output and errors."""

    status: int
    output: bytes
    errors: bytes


# For commands that compare trees: ``git diff-tree`` reads the whole index first (16 MB
# at 100,000 files: 20 ms) though two trees' raw differences do not depend on it; an
# index file that does not exist is an empty index.
NO_INDEX = {
    "GIT_INDEX_FILE": os.path.join(
        tempfile.gettempdir(), f"crmfiles-no-index-{os.getpid()}-{os.urandom(8).hex()}"
    )
}


def ask(
    cwd: Path, *commands: Sequence[str], env: dict[str, str] | None = None
) -> Callable[[], list[Answer]]:
    """Start read-only git commands side by side; the returned function waits for
    their answers, in order (an exit status other than 0 is an answer, not an error)."""
    try:
        procs = [
            subprocess.Popen(
                ["git", *args],
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **env} if env is not None else None,
            )
            for args in commands
        ]
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None

    def collect() -> list[Answer]:
        answers = []
        for proc in procs:
            output, errors = proc.communicate()
            answers.append(Answer(proc.returncode, output, errors))
        return answers

    return collect


def start(
    cwd: Path, *commands: Sequence[str], env: dict[str, str] | None = None
) -> Callable[[], list[bytes]]:
    """Start read-only git commands now, side by side; the returned function waits for
    them and gives their outputs, in order (so Python can work meanwhile)."""
    wait = ask(cwd, *commands, env=env)

    def collect() -> list[bytes]:
        outputs = []
        for args, (status, output, errors) in zip(commands, wait(), strict=True):
            if status != 0:
                message = errors.decode("utf-8", "replace").strip() or f"git {args[0]} failed"
                raise GitError(message)
            outputs.append(output)
        return outputs

    return collect


def out(args: Sequence[str], cwd: Path, **kwargs: object) -> str:
    return run(args, cwd, **kwargs).stdout.decode("utf-8", "replace")  # type: ignore[arg-type]
