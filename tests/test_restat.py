"""Which files ``git diff-files`` names really differ from the index
(:mod:`crmfiles.records.restat`): a file touched or written back as it was is not an
edit; an edit, a conflict, a FIFO or a symlink at a tracked path is."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from conftest import commit_all, git, write

from crmfiles.records.restat import LOOKED_AT, content_changed
from crmfiles.records.worktree import WorkTree

OPP = "opportunities/2026/01/acme-forklifts.yaml"


def touch(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


def dirty(repo: Path) -> list[str]:
    return WorkTree(repo).dirty()


def test_a_touched_file_is_not_an_edit_and_an_edited_one_is(repo: Path) -> None:
    touch(repo / OPP)
    touch(repo / "partners/acme.yaml")
    assert OPP in git(repo, "diff-files", "--name-only").split()  # git names it
    assert dirty(repo) == []
    text = (repo / OPP).read_text()
    (repo / OPP).write_text(text.replace("probability: 10", "probability: 20"))
    assert dirty(repo) == [OPP]
    (repo / OPP).write_text(text)  # written back: the staged content again
    assert dirty(repo) == []


def test_a_fifo_or_a_symlink_at_a_tracked_path_is_named(repo: Path) -> None:
    (repo / OPP).unlink()
    os.mkfifo(repo / OPP)
    assert dirty(repo) == [OPP]  # (and nothing waited on the FIFO)
    os.unlink(repo / OPP)
    os.symlink("../../../partners/acme.yaml", repo / OPP)
    assert OPP in dirty(repo)


def test_a_conflicted_file_is_named(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    text = (repo / OPP).read_text()
    write(repo, {OPP: text.replace("probability: 10", "probability: 20")})
    commit_all(repo, "ours")
    git(repo, "checkout", "-q", "-b", "theirs", base)
    write(repo, {OPP: text.replace("probability: 10", "probability: 30")})
    commit_all(repo, "theirs")
    git(repo, "checkout", "-q", "-")
    merged = subprocess.run(["git", "merge", "theirs"], cwd=repo, capture_output=True)
    assert merged.returncode != 0  # a conflict
    assert OPP in content_changed(repo, [OPP])


def test_many_files_are_taken_as_named_without_looking(repo: Path) -> None:
    paths = [f"opportunities/x-{i}.yaml" for i in range(LOOKED_AT + 1)]
    assert content_changed(repo, paths) == paths
    assert content_changed(repo, []) == []
