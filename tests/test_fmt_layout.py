"""``crm fmt --layout`` plans every move before it touches anything: two records bound
for one place, a misplaced record git does not track, a refusing hook or a held index
lock leave the files, the index and HEAD exactly as they were."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import commit_all, git, write

DEAL = """\
    id: acme-deal
    name: Acme deal {n}
    kind: hours
    status: in_progress
    partner: acme
    responsible: alice
    opened: 2026-09-03
    """
FIRST = "opportunities/2026/01/acme-deal.yaml"  # opened in September: misplaced
COPY = "opportunities/2026/08/acme-deal.yaml"
TARGET = "opportunities/2026/09/acme-deal.yaml"
OTHER = "opportunities/2026/02/other.yaml"  # misplaced too, and free to move


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", "fmt", "--layout", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def state(root: Path) -> tuple[str, str, dict[str, bytes]]:
    """HEAD, what git status says, and every file of the work tree."""
    files = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            full = Path(folder) / name
            files[full.relative_to(root).as_posix()] = full.read_bytes()
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    return git(root, "rev-parse", "HEAD").strip(), status, files


def misplaced(repo: Path) -> None:
    write(
        repo,
        {
            FIRST: DEAL.format(n=1),
            OTHER: DEAL.format(n=2).replace("acme-deal", "other").replace("09-03", "03-01"),
        },
    )
    commit_all(repo, "misplaced records")


def test_moves_every_misplaced_record_in_one_commit(repo: Path) -> None:
    misplaced(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    proc = crm(repo)
    assert proc.returncode == 0, proc.stderr
    assert "2 records moved" in proc.stdout
    assert (repo / TARGET).exists() and not (repo / FIRST).exists()
    assert (repo / "opportunities/2026/03/other.yaml").exists()
    assert git(repo, "rev-parse", "HEAD~1").strip() == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_two_records_bound_for_one_place_are_refused_before_anything_moves(
    repo: Path,
) -> None:
    """The issue's case: an uncommitted copy of a record in another month folder."""
    misplaced(repo)
    write(repo, {COPY: DEAL.format(n=1)})
    before = state(repo)
    proc = crm(repo)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert FIRST in proc.stderr and COPY in proc.stderr and TARGET in proc.stderr
    assert state(repo) == before


def test_two_committed_records_with_one_id_are_refused(repo: Path) -> None:
    misplaced(repo)
    write(repo, {COPY: DEAL.format(n=3)})
    commit_all(repo, "a duplicate")
    before = state(repo)
    proc = crm(repo)
    assert proc.returncode == 2
    assert f"{FIRST} and {COPY} would both move to {TARGET}" in proc.stderr
    assert state(repo) == before


def test_an_untracked_misplaced_record_is_refused(repo: Path) -> None:
    misplaced(repo)
    git(repo, "rm", "-q", "--cached", OTHER)
    git(repo, "commit", "-q", "-m", "forget other")
    before = state(repo)
    proc = crm(repo)
    assert proc.returncode == 2
    assert f"{OTHER} is not committed" in proc.stderr
    assert state(repo) == before


def test_a_record_in_the_way_is_refused(repo: Path) -> None:
    misplaced(repo)
    write(repo, {TARGET: DEAL.format(n=9)})  # in its place already, where FIRST would go
    before = state(repo)
    proc = crm(repo)
    assert proc.returncode == 2
    assert f"cannot move {FIRST} to {TARGET}: a file is already there" in proc.stderr
    assert state(repo) == before


def test_a_refusing_hook_leaves_everything_as_it_was(repo: Path) -> None:
    misplaced(repo)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'no moves today' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = state(repo)
    proc = crm(repo)
    assert proc.returncode == 3  # git refused (exit 3, docs/cli.md)
    assert "no moves today" in proc.stderr
    assert "nothing was moved" in proc.stderr
    assert state(repo) == before


def test_a_held_index_lock_leaves_everything_as_it_was(repo: Path) -> None:
    misplaced(repo)
    before = state(repo)
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    proc = crm(repo)
    lock.unlink()
    assert proc.returncode == 3
    assert "index.lock" in proc.stderr and "nothing was moved" in proc.stderr
    assert state(repo) == before
    assert crm(repo).returncode == 0  # and once the lock is gone, it works
    assert (repo / TARGET).exists()
