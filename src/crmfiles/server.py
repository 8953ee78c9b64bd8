"""``crm server``: the lifecycle checks enforced where the repository is hosted.

``install`` writes a ``pre-receive`` hook into a (bare) repository that runs this
module, by absolute path, with the Python that installed it; the protected branches
are the repository's ``crm.protect`` settings (``git config --get-all``).  For every
pushed update of a branch the hook lints the new commits one by one, exactly as
``crm lint --base OLD --head NEW`` does, reading crm.yaml and the records from the
pushed revision (a bare repository has no work tree).  A protected branch with an
error is refused; any other branch is checked and reported, never refused.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from crmfiles import git
from crmfiles.diagnostics import Diagnostic
from crmfiles.errors import CrmError

ZERO = "0" * 40
MARKER = "# crmfiles pre-receive hook: installed by `crm server install`"
CHAINED = "pre-receive.before-crm"  # an earlier hook kept by --force, run first
SETTING = "crm.protect"
BRANCH_PREFIX = "refs/heads/"


def git_dir(path: Path) -> Path:
    """The git directory of the repository at ``path`` (bare or not)."""
    proc = git.run(["rev-parse", "--absolute-git-dir"], path, check=False)
    if proc.returncode != 0:
        raise CrmError(
            f"'{path}' is not a git repository",
            hint="give the bare repository the team pushes to, e.g. /srv/git/crm.git",
        )
    return Path(proc.stdout.decode().strip())


def hooks_dir(path: Path) -> Path:
    proc = git.run(["rev-parse", "--git-path", "hooks"], path)
    hooks = Path(proc.stdout.decode().strip())
    return hooks if hooks.is_absolute() else (path / hooks).resolve()


def protected(path: Path) -> list[str]:
    proc = git.run(["config", "--get-all", SETTING], path, check=False)
    return [line.strip() for line in proc.stdout.decode().splitlines() if line.strip()]


def hook_script(python: str) -> str:
    quoted = "'" + python.replace("'", "'\\''") + "'"
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        "# protected branches: git config --get-all crm.protect\n"
        f'exec {quoted} -m crmfiles server hook "$@"\n'
    )


@dataclass
class Installed:
    hook: Path
    branches: list[str]
    kept: Path | None = None  # the earlier hook, now chained
    changed: bool = True


def install(path: Path, branches: Sequence[str], *, force: bool = False) -> Installed:
    """Write the hook (idempotent) and set the protected branches to ``branches``."""
    git_dir(path)
    names = []
    for branch in branches:
        name = branch.removeprefix(BRANCH_PREFIX)
        check = git.run(["check-ref-format", "--branch", name], path, check=False)
        if not name or check.returncode != 0:
            raise CrmError(f"'{branch}' is not a valid branch name")
        if name not in names:
            names.append(name)
    hooks = hooks_dir(path)
    hook = hooks / "pre-receive"
    text = hook_script(sys.executable)
    kept = None
    current = hook.read_text("utf-8", "replace") if hook.is_file() else None
    if os.path.lexists(hook) and (current is None or MARKER not in current):
        chained = hooks / CHAINED
        if not force:
            raise CrmError(
                f"{hook} exists and is not crmfiles' hook",
                hint="pass --force to keep it as "
                f"{CHAINED} (run first, its refusal stands) and install crm's",
            )
        if os.path.lexists(chained):
            raise CrmError(f"{chained} exists already: move one of the two hooks away first")
        os.rename(hook, chained)
        kept = chained
    hooks.mkdir(parents=True, exist_ok=True)
    changed = current != text
    if changed:
        temp = hook.with_name(".pre-receive.crm-tmp")
        temp.write_text(text, "utf-8")
        temp.chmod(0o755)
        os.replace(temp, hook)
    git.run(["config", "--unset-all", SETTING], path, check=False)
    for name in names:
        git.run(["config", "--add", SETTING, name], path)
    return Installed(hook, names, kept, changed or kept is not None)


@dataclass
class Update:
    old: str
    new: str
    ref: str

    @property
    def branch(self) -> str | None:
        return self.ref.removeprefix(BRANCH_PREFIX) if self.ref.startswith(BRANCH_PREFIX) else None


@dataclass
class Outcome:
    update: Update
    refused: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    failed: bool = False  # the check could not run (crm.yaml missing or broken)


def read_updates(text: str) -> list[Update]:
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append(Update(*parts))
    return updates


def _lines(args: list[str], root: Path) -> list[str]:
    proc = git.run(args, root, check=False)
    return proc.stdout.decode().split() if proc.returncode == 0 else []


def base_of_new_branch(root: Path, new: str, branches: Sequence[str]) -> str:
    """Where a new branch's own commits start: its merge-base with the nearest existing
    protected branch, or else the commits that no other ref has (their parent
    outside; the empty tree when the branch shares nothing with the repository)."""
    best: tuple[int, str] | None = None
    for name in branches:
        if not _lines(["rev-parse", "--verify", "-q", BRANCH_PREFIX + name], root):
            continue
        for base in _lines(["merge-base", new, BRANCH_PREFIX + name], root)[:1]:
            count = len(_lines(["rev-list", f"{base}..{new}"], root))
            if best is None or count < best[0]:
                best = (count, base)
    if best is not None:
        return best[1]
    listed = _lines(["rev-list", "--boundary", new, "--not", "--all"], root)
    if not listed:
        return new  # every commit is on another ref already: only the head is checked
    boundary = [c[1:] for c in listed if c.startswith("-")]
    return boundary[0] if boundary else git.EMPTY_TREE


def judge(root: Path, update: Update, branches: Sequence[str]) -> Outcome:
    """The checks of one pushed update, and whether it is refused."""
    from crmfiles.lint import lint

    branch = update.branch
    outcome = Outcome(update)
    guarded = branch is not None and branch in branches
    if branch is None:
        return outcome  # tags and other refs: not crm's business
    if update.new == ZERO:
        if guarded:
            outcome.refused = True
            outcome.lines.append(
                f"crm: {branch} is a protected branch: deleting it is refused "
                "(an admin can remove the protection with `crm server install`)"
            )
        return outcome
    if update.old == ZERO:
        base = base_of_new_branch(root, update.new, branches)
        what = "new branch"
    else:
        base, what = update.old, "update"
    span = f"{base[:10]}..{update.new[:10]}" if base != git.EMPTY_TREE else update.new[:10]
    outcome.lines.append(f"crm: checking {branch} ({what}, {span})")
    try:
        result = lint(root, base=base, head=update.new)
    except CrmError as err:
        outcome.lines.append(f"crm: error: {err.message}")
        if err.hint:
            outcome.lines.append(f"  hint: {err.hint}")
        outcome.refused, outcome.failed = guarded, True
        return outcome
    outcome.diagnostics = list(result.report.diagnostics)
    errors = sum(d.severity.value == "error" for d in outcome.diagnostics)
    outcome.refused = guarded and errors > 0
    return outcome


def write_outcome(outcome: Outcome, stream: TextIO, branches: Sequence[str]) -> None:
    from crmfiles.diagnostics.formats import write_report

    for line in outcome.lines:
        stream.write(line + "\n")
    if outcome.update.new == ZERO or outcome.update.branch is None:
        return
    if not outcome.failed:
        write_report(outcome.diagnostics, "text", stream)
    branch = outcome.update.branch
    if outcome.refused:
        stream.write(f"crm: push to {branch} refused: {branch} is protected; fix and push again\n")
    elif outcome.diagnostics and branch not in branches:
        stream.write(f"crm: {branch} is not protected: the push is accepted with these findings\n")


def run_chained(hooks: Path, stdin: str, args: Sequence[str]) -> int:
    """The hook that was there before crm's, given the same input; 0 when none."""
    chained = hooks / CHAINED
    if not chained.is_file() or not chained.stat().st_mode & stat.S_IXUSR:
        return 0
    proc = subprocess.run([str(chained), *args], input=stdin.encode(), check=False)
    return proc.returncode


def receive(root: Path, updates: Sequence[Update], stream: TextIO) -> int:
    """Judge every update; 1 when any is refused (git then refuses the whole push)."""
    branches = protected(root)
    refused = False
    for update in updates:
        outcome = judge(root, update, branches)
        write_outcome(outcome, stream, branches)
        refused = refused or outcome.refused
    return 1 if refused else 0
