"""How an operation commits: hooks run when installed (and a hook that says no leaves
nothing behind), signing as configured, the plumbing tree equal to git's own, and the
user's index kept in step."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles import git as crmgit
from crmfiles.errors import CrmError
from crmfiles.ops import CommitFailed, move

OPP = "opportunities/2026/01/acme-forklifts.yaml"
TASKS = """\
  tasks:
    - title: Send the proposal
      due_days: 5
"""


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def hook(root: Path, name: str, body: str, folder: str = ".git/hooks") -> None:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def with_tasks(root: Path) -> None:
    stages = (root / "catalogs/stages.yaml").read_text()
    write(
        root,
        {
            "catalogs/stages.yaml": stages.replace(
                "  probability: 40\n", "  probability: 40\n" + TASKS
            )
        },
    )
    commit_all(root, "proposal tasks")


def test_a_hook_that_says_no_leaves_nothing_behind(repo: Path) -> None:
    with_tasks(repo)
    hook(repo, "pre-commit", "echo 'lint says no' >&2\nexit 1\n")
    write(repo, {"partners/acme.yaml": dedent(BASE_FILES["partners/acme.yaml"]) + "country: DE\n"})
    git(repo, "add", "partners/acme.yaml")
    before = ((repo / OPP).read_bytes(), head(repo), git(repo, "ls-files", "-s"),
              git(repo, "status", "--porcelain", "--untracked-files=all"))  # fmt: skip
    with pytest.raises(CommitFailed) as failed:
        move(repo, "acme-forklifts", "proposal")
    assert "lint says no" in failed.value.output
    after = ((repo / OPP).read_bytes(), head(repo), git(repo, "ls-files", "-s"),
             git(repo, "status", "--porcelain", "--untracked-files=all"))  # fmt: skip
    assert after == before
    assert not (repo / "tasks").exists()


def test_hooks_run_and_still_only_our_files_are_committed(repo: Path, tmp_path: Path) -> None:
    with_tasks(repo)
    marker = tmp_path / "ran"
    hook(repo, "pre-commit", f"git diff --cached --name-only > {marker}\n")
    write(repo, {"partners/acme.yaml": dedent(BASE_FILES["partners/acme.yaml"]) + "country: DE\n"})
    git(repo, "add", "partners/acme.yaml")
    result = move(repo, "acme-forklifts", "proposal")
    task = result.created[0]
    assert sorted(marker.read_text().split()) == sorted([OPP, task])  # what the hook saw
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == sorted(
        [OPP, task]
    )
    assert git(repo, "status", "--porcelain") == "M  partners/acme.yaml\n"
    assert git(repo, "log", "-1", "--format=%B").startswith(
        "crm: move acme-forklifts qualify -> proposal\n\nCrm-Record: "
    )


def test_core_hooks_path_is_honoured(repo: Path) -> None:
    hook(repo, "commit-msg", "echo 'bad message' >&2\nexit 1\n", folder="githooks")
    git(repo, "config", "core.hooksPath", "githooks")
    before = head(repo)
    with pytest.raises(CommitFailed, match="a hook said no"):
        move(repo, "acme-forklifts", "proposal")
    assert head(repo) == before
    assert "stage: qualify" in (repo / OPP).read_text()


def test_commits_are_signed_when_git_is_told_to(repo: Path, tmp_path: Path) -> None:
    gpg = tmp_path / "fake-gpg"
    gpg.write_text(
        "#!/bin/sh\n"
        "cat > /dev/null\n"
        "echo '[GNUPG:] SIG_CREATED D 1 8 00 1 ABCDEF' >&2\n"
        "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nfake\\n-----END PGP SIGNATURE-----\\n'\n"
    )
    gpg.chmod(0o755)
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", str(gpg))
    git(repo, "config", "user.signingkey", "ABCDEF")
    move(repo, "acme-forklifts", "proposal")
    assert "gpgsig -----BEGIN PGP SIGNATURE-----" in git(repo, "cat-file", "commit", "HEAD")
    git(repo, "config", "gpg.program", "false")  # signing fails: nothing is left half done
    before = ((repo / OPP).read_bytes(), head(repo))
    with pytest.raises(CommitFailed):
        move(repo, "acme-forklifts", "negotiate")
    assert ((repo / OPP).read_bytes(), head(repo)) == before


def test_edit_tree_makes_the_tree_git_would(repo: Path, tmp_path: Path) -> None:
    blob = crmgit.hash_blobs(repo, {"x": b"new\n"})["x"]
    changes: dict[str, str | None] = {
        "tasks/2031/02/new-task.yaml": blob,  # new folders
        OPP: blob,  # a changed file
        "contacts/jane.yaml": None,  # the last file of a folder: the folder goes
        "crm.yaml": blob,  # at the root
    }
    ours = crmgit.edit_tree(repo, head(repo), changes)
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "index")}

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout

    run("read-tree", "HEAD")
    for path, value in changes.items():
        if value is None:
            run("update-index", "--force-remove", path)
        else:
            run("update-index", "--add", "--cacheinfo", f"100644,{value},{path}")
    assert ours == run("write-tree").strip()


def test_update_ref_never_loses_a_commit_made_meanwhile(repo: Path) -> None:
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    new = crmgit.commit_tree(repo, tree, [head(repo)], "other\n")
    stale = crmgit.EMPTY_TREE  # not what HEAD points at
    with pytest.raises(crmgit.GitError):
        crmgit.update_ref(repo, "HEAD", new, stale, "race")
    assert head(repo) != new


def test_a_locked_index_refuses_the_commit_and_leaves_nothing(repo: Path) -> None:
    """Another git holds the index: crm waits a moment, then commits nothing (moving
    HEAD without the index would let that git's commit revert ours)."""
    lock = Path(git(repo, "rev-parse", "--absolute-git-dir").strip()) / "index.lock"
    lock.write_text("")
    before = ((repo / OPP).read_bytes(), head(repo), git(repo, "ls-files", "-s"))
    try:
        with pytest.raises(CommitFailed) as failed:
            move(repo, "acme-forklifts", "proposal")
    finally:
        lock.unlink()
    assert "index.lock" in failed.value.message
    assert "crm doctor" in (failed.value.hint or "")
    assert ((repo / OPP).read_bytes(), head(repo), git(repo, "ls-files", "-s")) == before
    assert git(repo, "status", "--porcelain") == ""


def _leftovers(root: Path) -> list[str]:
    gitdir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    return sorted(p.name for p in gitdir.iterdir() if ".crm-" in p.name or p.name.endswith(".lock"))


@pytest.mark.parametrize("split", [False, True], ids=["index", "split-index"])
def test_the_index_made_beside_the_users_leaves_git_status_clean(repo: Path, split: bool) -> None:
    if split:  # its shared part is not in the copy: staged the usual way
        git(repo, "update-index", "--split-index")
    write(repo, {"notes.txt": "work in progress\n"})
    git(repo, "add", "notes.txt")  # the user's staged work stays staged
    move(repo, "acme-forklifts", "proposal")
    assert git(repo, "status", "--porcelain") == "A  notes.txt\n"
    assert (
        git(repo, "ls-files", "-s", OPP).split()[1] == git(repo, "rev-parse", f"HEAD:{OPP}").strip()
    )
    assert git(repo, "diff", "--cached", "--name-only", "HEAD", "--", OPP) == ""
    assert _leftovers(repo) == []


def test_an_index_changed_meanwhile_is_left_to_git(repo: Path) -> None:
    index = Path(git(repo, "rev-parse", "--git-path", "index").strip())
    index = index if index.is_absolute() else repo / index
    blob = crmgit.hash_blobs(repo, {OPP: b"changed\n"})[OPP]
    side = crmgit.SideIndex(repo, index)
    side.update({OPP: ("100644", blob)})
    assert side.finish()
    write(repo, {"notes.txt": "meanwhile\n"})
    git(repo, "add", "notes.txt")  # another git wrote the index since the copy
    lock = crmgit.IndexLock(index)
    lock.acquire()
    assert not side.into(lock)
    lock.release()
    assert git(repo, "status", "--porcelain") == "A  notes.txt\n"  # nothing lost
    assert git(repo, "ls-files", "-s", OPP).split()[1] != blob
    assert _leftovers(repo) == []


@pytest.mark.parametrize("how", ["discard", "finish"])
def test_an_index_copy_never_given_its_entries_is_dropped(repo: Path, how: str) -> None:
    """Begun for a commit that did not happen (the operation refused): git, still
    waiting for what to change, is stopped, and neither the copy nor its lock stays."""
    index = Path(git(repo, "rev-parse", "--git-path", "index").strip())
    index = index if index.is_absolute() else repo / index
    before = index.read_bytes()
    side = crmgit.SideIndex(repo, index)
    assert f"index.crm-{os.getpid()}" in _leftovers(repo)  # (and git's lock on it, soon)
    if how == "discard":
        side.discard()
    else:
        assert not side.finish()
        lock = crmgit.IndexLock(index)
        lock.acquire()
        assert not side.into(lock)
        lock.release()
    assert _leftovers(repo) == []
    assert index.read_bytes() == before


def test_an_operation_refused_early_drops_the_index_it_began(repo: Path) -> None:
    with pytest.raises(CrmError, match="no record with id"):
        move(repo, "nobody", "proposal")
    assert _leftovers(repo) == []


def test_edit_tree_without_a_base_makes_the_tree_git_would(tmp_path: Path) -> None:
    """An unborn branch: the first commit's tree, nested folders and all."""
    root = tmp_path / "new"
    root.mkdir()
    git(root, "init", "-q")
    files = {"crm.yaml": b"version: 1\n", "opportunities/2026/01/a.yaml": b"id: a\n"}
    blobs = crmgit.hash_blobs(root, files)
    ours = crmgit.edit_tree(root, None, dict(blobs))
    for path, blob in blobs.items():
        git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    assert ours == git(root, "write-tree").strip()


def test_the_operations_check_judges_a_catalog_edit_as_lint_does(repo: Path) -> None:
    """An operation that edits a catalog meets stage-in-use, as `crm lint` would."""
    from crmfiles.ops.guard import review

    stages = (repo / "catalogs/stages.yaml").read_text()
    without_qualify = stages.split("- id: proposal", 1)[1]
    verdict = review(
        repo,
        {"catalogs/stages.yaml": "- id: proposal" + without_qualify},
        head=git(repo, "rev-parse", "HEAD").strip(),
        commit=True,
    )
    assert "stage-in-use" in [d.rule for d in verdict.errors]
