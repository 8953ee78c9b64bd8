"""A copied or restored repository (``cp -a``, ``rsync -a``, a backup put back) never
makes the warm-run cache trust a file it did not read: such tools carry modification
times and the cache files along, but never a file's inode change time (ctime)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git, write

BROKEN = """\
    id: sneaky
    name: Sneaky
    kind: hours
    status: in_progress
    partner: nobody
    responsible: alice
    """
SNEAKY = "opportunities/2026/01/sneaky.yaml"  # beside acme-forklifts: the folder exists


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args, "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def flagged(root: Path, *args: str) -> set[str]:
    """The paths with diagnostics, from a real ``crm`` process (which must not crash)."""
    proc = crm(root, *args)
    assert proc.returncode in (0, 1), proc.stderr
    return {d["path"] for d in json.loads(proc.stdout)["diagnostics"]}


def settled(root: Path, since: float) -> None:
    """Wait until the detached writer of the last command recorded the untracked files
    (it runs after the command answered)."""
    folder = root / ".git" / "crmfiles"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(r.stat().st_mtime > since for r in folder.glob("untracked-*.marshal")):
            time.sleep(0.2)  # (written by a rename: complete once it is there)
            return
        time.sleep(0.05)
    raise AssertionError("the untracked files were never recorded")


def copy(method: str, source: Path, target: Path) -> None:
    if method == "cp":
        subprocess.run(["cp", "-a", f"{source}/.", str(target)], check=True)
    else:
        if shutil.which("rsync") is None:
            pytest.skip("rsync is not installed")
        subprocess.run(["rsync", "-a", f"{source}/", f"{target}/"], check=True)


@pytest.mark.parametrize("method", ["cp", "rsync"])
def test_a_restored_backup_does_not_hide_an_untracked_record(
    repo: Path, tmp_path: Path, method: str
) -> None:
    """The backup's record of the untracked files, its folder times and its index all
    come back; the broken record made since stays in the work tree, and is found."""
    time.sleep(1.2)  # folders and index older than the recording's safety margin
    assert flagged(repo, "validate") == set()  # cold: the cache is made
    started = time.time()
    assert flagged(repo, "validate") == set()  # warm: the untracked files are recorded
    settled(repo, started)
    backup = tmp_path / "backup"
    backup.mkdir()
    copy(method, repo, backup)

    write(repo, {SNEAKY: BROKEN})
    started = time.time()
    assert flagged(repo, "validate") == {SNEAKY}
    settled(repo, started)

    copy(method, backup, repo)  # put the backup back; the new file is not in it
    assert (repo / SNEAKY).exists()
    assert flagged(repo, "validate") == {SNEAKY}
    assert flagged(repo, "validate") == {SNEAKY}  # and the run after it
    assert SNEAKY in git(repo, "status", "--porcelain", "--untracked-files=all")


@pytest.mark.parametrize("method", ["cp", "rsync"])
def test_a_copy_with_a_broken_record_staged_reports_it_every_time(
    repo: Path, tmp_path: Path, method: str
) -> None:
    assert flagged(repo, "validate") == set()
    assert flagged(repo, "lint", "--staged") == set()
    clone = tmp_path / "copy"
    clone.mkdir()
    copy(method, repo, clone)
    write(clone, {SNEAKY: BROKEN})
    git(clone, "add", SNEAKY)
    for _ in range(3):
        assert flagged(clone, "validate") == {SNEAKY}
        assert flagged(clone, "lint", "--staged") == {SNEAKY}
    os.chdir(repo)  # the original is untouched by its copy
    assert flagged(repo, "validate") == set()
