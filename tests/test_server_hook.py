"""``crm server``: the pre-receive hook refuses a push to a protected branch whose
commits break a lifecycle rule, and says why to the pusher; pushes go to a real bare
repository over file:// and over `git daemon` on the loopback address."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])
SKIP = (
    f"remote: {OPPORTUNITY}:5:8: error: stage moved from 'qualify' to 'negotiate', "
    "skipping 'proposal' [stage-skip]"
)


def at(stage: str, probability: str) -> str:
    return OPEN.replace("stage: qualify", f"stage: {stage}").replace(
        "probability: 10", f"probability: {probability}"
    )


def push(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", *args], cwd=work, capture_output=True, text=True, timeout=120
    )


def lines(stderr: str) -> list[str]:
    """What the pusher sees, without the blanks git pads remote lines with."""
    return [line.rstrip() for line in stderr.splitlines()]


def sha(root: Path, rev: str) -> str:
    return git(root, "rev-parse", rev).strip()


@pytest.fixture
def server(repo: Path, tmp_path: Path) -> Path:
    """A bare repository with the hook (main protected) and main pushed to it."""
    bare = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert main(["server", "install", str(bare), "--branch", "main"]) == 0
    git(repo, "remote", "add", "origin", bare.as_uri())
    first = push(repo, "origin", "main")
    assert first.returncode == 0, first.stderr
    assert "remote: crm: checking main (new branch" in first.stderr
    return bare


def test_install_writes_a_hook_that_calls_this_crmfiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert main(["server", "install", str(bare), "--branch", "main", "--branch", "release"]) == 0
    hook = bare / "hooks" / "pre-receive"
    assert f"'{sys.executable}' -m crmfiles server hook" in hook.read_text()
    assert hook.stat().st_mode & 0o111
    assert git(bare, "config", "--get-all", "crm.protect").split() == ["main", "release"]
    assert "installed" in capsys.readouterr().out
    # idempotent: the same hook, the protected branches replaced
    assert main(["server", "install", str(bare)]) == 0
    assert capsys.readouterr().out.startswith("up to date:")
    assert git(bare, "config", "--get-all", "crm.protect").split() == ["main"]


def test_an_existing_hook_is_kept_only_with_force(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    theirs = bare / "hooks" / "pre-receive"
    theirs.write_text("#!/bin/sh\necho 'ops: pushes are frozen' >&2\nexit 1\n")
    theirs.chmod(0o755)
    assert main(["server", "install", str(bare)]) == 2
    assert "is not crmfiles' hook" in capsys.readouterr().err
    assert "frozen" in theirs.read_text()

    assert main(["server", "install", str(bare), "--force"]) == 0
    assert "kept the earlier hook" in capsys.readouterr().out
    assert "frozen" in (bare / "hooks" / "pre-receive.before-crm").read_text()
    git(repo, "remote", "add", "origin", bare.as_uri())
    pushed = push(repo, "origin", "main")
    assert pushed.returncode != 0
    assert "remote: ops: pushes are frozen" in pushed.stderr  # the earlier hook still rules


def test_a_push_to_a_protected_branch_with_a_skip_is_refused(repo: Path, server: Path) -> None:
    before = sha(server, "main")
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    skipped = commit_all(repo, "straight to negotiate")
    pushed = push(repo, "origin", "main")
    assert pushed.returncode != 0
    assert SKIP in lines(pushed.stderr)
    assert f"remote:   in commit {skipped[:12]}" in pushed.stderr
    assert "remote: crm: push to main refused: main is protected" in pushed.stderr
    assert "[remote rejected] main -> main (pre-receive hook declined)" in pushed.stderr
    assert sha(server, "main") == before

    # a later commit that ends in a lawful state does not hide the skip
    write(repo, {OPPORTUNITY: at("proposal", "40")})
    git(repo, "commit", "-qam", "wait, proposal")
    assert push(repo, "origin", "main").returncode != 0


def test_a_lawful_push_is_accepted(repo: Path, server: Path) -> None:
    write(repo, {OPPORTUNITY: at("proposal", "40")})
    moved = commit_all(repo, "crm: move acme-forklifts qualify -> proposal")
    pushed = push(repo, "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert "remote: crm: checking main (update" in pushed.stderr
    assert sha(server, "main") == moved


def test_other_branches_are_reported_not_refused(repo: Path, server: Path) -> None:
    git(repo, "checkout", "-qb", "wip")
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    skipped = commit_all(repo, "straight to negotiate")
    pushed = push(repo, "origin", "wip")
    assert pushed.returncode == 0, pushed.stderr
    assert SKIP in lines(pushed.stderr)
    assert "remote: crm: wip is not protected: the push is accepted" in pushed.stderr
    assert sha(server, "wip") == skipped
    # only the branch's own commits (from its merge-base with main) were checked
    assert "remote: crm: checking wip (new branch, " + sha(repo, "main")[:10] in pushed.stderr


def test_creating_and_deleting_a_protected_branch(repo: Path, server: Path) -> None:
    git(server, "config", "--add", "crm.protect", "release")
    git(repo, "checkout", "-qb", "release")
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    commit_all(repo, "straight to negotiate")
    created = push(repo, "origin", "release")
    assert created.returncode != 0
    assert SKIP in lines(created.stderr)
    assert "release" not in git(server, "branch")

    deleted = push(repo, "origin", "--delete", "main")
    assert deleted.returncode != 0
    assert "remote: crm: main is a protected branch: deleting it is refused" in deleted.stderr
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "scratch")
    assert push(repo, "origin", "scratch").returncode == 0
    assert push(repo, "origin", "--delete", "scratch").returncode == 0


def test_the_first_push_into_an_empty_repository_checks_every_commit(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    commit_all(repo, "straight to negotiate")
    bare = tmp_path / "crm.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert main(["server", "install", str(bare)]) == 0
    pushed = push(repo, bare.as_uri(), "main")
    assert pushed.returncode != 0
    assert SKIP in lines(pushed.stderr)


def test_server_check_tests_the_hook_on_a_range(
    repo: Path, server: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = sha(repo, "HEAD")
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    commit_all(repo, "straight to negotiate")
    push(repo, "origin", "main:refs/heads/wip")
    capsys.readouterr()
    assert main(["server", "check", base, "wip", "--repo", str(server)]) == 1
    out = capsys.readouterr().out
    assert SKIP.removeprefix("remote: ") in out.splitlines()
    assert "crm: push to main refused" in out
    # the same range, as crm lint sees it in the bare repository
    assert main(["lint", "--base", base, "--head", "wip", "--repo", str(server)]) == 1
    assert SKIP.removeprefix("remote: ") in capsys.readouterr().out.splitlines()
    assert main(["server", "check", "nonsense", "wip", "--repo", str(server)]) == 2
    assert "unknown revision 'nonsense'" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def daemon(server: Path) -> Iterator[str]:
    """`git daemon` serving the bare repository on the loopback address: its URL."""
    if shutil.which("git") is None or subprocess.run(
        ["git", "daemon", "--help"], capture_output=True, check=False
    ).returncode not in (0, 129):
        pytest.skip("git daemon is not available")
    port = _free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            f"--base-path={server.parent}",
            "--enable=receive-pack",
            f"--port={port}",
            "--listen=127.0.0.1",
            "--reuseaddr",
            str(server.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"git daemon did not start: {err}")
                time.sleep(0.1)
        yield f"git://127.0.0.1:{port}/{server.name}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_git_daemon_pushes_are_checked_too(repo: Path, server: Path, daemon: str) -> None:
    write(repo, {OPPORTUNITY: at("negotiate", "70")})
    commit_all(repo, "straight to negotiate")
    refused = push(repo, daemon, "main")
    assert refused.returncode != 0
    assert SKIP in lines(refused.stderr)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    write(repo, {OPPORTUNITY: at("proposal", "40")})
    moved = commit_all(repo, "crm: move acme-forklifts qualify -> proposal")
    accepted = push(repo, daemon, "main")
    assert accepted.returncode == 0, accepted.stderr
    assert sha(server, "main") == moved
