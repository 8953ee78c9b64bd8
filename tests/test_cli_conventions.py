"""What scripts and terminals expect of `crm`, as a real process sees it.

- git refusing or failing a commit (a pre-commit hook that says no, signing that fails,
  another git holding a lock) is exit 3, apart from a rule's refusal (1) and a usage
  error (2), and leaves the record as it was;
- `crm lint --format gitlab` still writes `[]` when it exits 2 (GitLab rejects an
  empty Code Quality artifact);
- `TERM=dumb` gets no colour, on a real terminal (a pty).
"""

from __future__ import annotations

import json
import os
import pty
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import commit_all, git, write

OPP = "opportunities/2026/01/acme-forklifts.yaml"
ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def crm(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def hook(root: Path, name: str, body: str) -> None:
    path = root / ".git" / "hooks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def state(root: Path) -> tuple[bytes, str, str]:
    """The record, HEAD, and git's view of the work tree."""
    return (
        (root / OPP).read_bytes(),
        git(root, "rev-parse", "HEAD"),
        git(root, "status", "--porcelain"),
    )


# --- exit 3: git failed ------------------------------------------------------------


def test_a_pre_commit_hook_that_says_no_is_exit_3(repo: Path) -> None:
    hook(repo, "pre-commit", "echo 'the hook says no' >&2\nexit 1\n")
    before = state(repo)
    proc = crm(repo, "move", "acme-forklifts", "proposal")
    assert proc.returncode == 3, proc.stderr
    assert "git refused the commit" in proc.stderr
    assert "  | the hook says no" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert state(repo) == before


def test_a_git_failure_in_json_says_what_git_said(repo: Path) -> None:
    hook(repo, "pre-commit", "echo 'the hook says no' >&2\nexit 1\n")
    proc = crm(repo, "close", "acme-forklifts", "--lost", "--reason", "price", "--format", "json")
    assert proc.returncode == 3
    payload = json.loads(proc.stdout)
    assert payload["version"] == 1 and payload["ok"] is False
    assert "the hook says no" in payload["git"]


def test_a_held_index_lock_is_exit_3(repo: Path) -> None:
    """With a hook installed the commit is `git commit`, which needs the index lock."""
    hook(repo, "pre-commit", "exit 0\n")
    lock = repo / ".git" / "index.lock"
    lock.touch()
    before = state(repo)[:2]
    proc = crm(repo, "move", "acme-forklifts", "proposal")
    assert proc.returncode == 3, proc.stderr
    assert "index.lock" in proc.stderr
    lock.unlink()
    assert state(repo)[:2] == before
    assert git(repo, "status", "--porcelain") == ""


def test_a_held_branch_lock_is_exit_3(repo: Path) -> None:
    """Without hooks the commit is plumbing; updating the branch needs its lock."""
    branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    lock = repo / ".git" / "refs" / "heads" / f"{branch}.lock"
    lock.touch()
    before = state(repo)[:2]
    proc = crm(repo, "move", "acme-forklifts", "proposal")
    lock.unlink()
    assert proc.returncode == 3, proc.stderr
    assert f"{branch}.lock" in proc.stderr
    assert state(repo)[:2] == before


def test_signing_that_fails_is_exit_3(repo: Path) -> None:
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")
    before = state(repo)
    proc = crm(repo, "move", "acme-forklifts", "proposal")
    assert proc.returncode == 3, proc.stderr
    assert "gpg failed to sign" in proc.stderr
    assert state(repo) == before


def test_a_rules_refusal_is_1_and_a_usage_error_is_2(repo: Path) -> None:
    hook(repo, "pre-commit", "exit 0\n")
    assert crm(repo, "move", "acme-forklifts", "commit").returncode == 1  # skips stages
    assert crm(repo, "move", "no-such-deal", "proposal").returncode == 2
    assert crm(repo, "move").returncode == 2


def test_init_and_fmt_layout_say_3_when_git_refuses(repo: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    hook(fresh, "pre-commit", "echo 'not today' >&2\nexit 1\n")
    proc = crm(tmp_path, "init", str(fresh))
    assert proc.returncode == 3, proc.stderr
    assert "  | not today" in proc.stderr

    # a record out of crm.yaml's layout (by month), committed before the hook is there
    git(repo, "mv", OPP, "opportunities/acme-forklifts.yaml")
    commit_all(repo, "out of layout")
    hook(repo, "pre-commit", "echo 'not today' >&2\nexit 1\n")
    proc = crm(repo, "fmt", "--layout")
    assert proc.returncode == 3, proc.stderr
    assert "  | not today" in proc.stderr


# --- lint --format gitlab on exit 2 ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["lint", "--base", "no-such-branch", "--format", "gitlab"],  # unknown revision
        ["lint", "--format=gitlab", "--no-such-option"],  # argparse's usage error
        ["validate", "--rev", "no-such-branch", "--format", "gitlab"],
    ],
    ids=["unknown-revision", "usage", "validate"],
)
def test_gitlab_report_is_an_empty_list_on_exit_2(repo: Path, args: list[str]) -> None:
    proc = crm(repo, *args)
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == []
    assert proc.stderr.startswith(("crm: error:", "usage:"))


def test_gitlab_report_file_is_an_empty_list_on_exit_2(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "gl-code-quality-report.json"
    outside = tmp_path / "not-a-crm"
    outside.mkdir()
    proc = crm(outside, "lint", "--format", "gitlab", "-o", str(report))
    assert proc.returncode == 2
    assert "not in a CRM repository" in proc.stderr
    assert proc.stdout == ""
    assert json.loads(report.read_text()) == []


def test_other_formats_write_nothing_on_exit_2(repo: Path) -> None:
    proc = crm(repo, "lint", "--base", "no-such-branch", "--format", "json")
    assert proc.returncode == 2 and proc.stdout == ""


# --- colour -------------------------------------------------------------------------


def on_a_terminal(cwd: Path, args: list[str], **env: str) -> bytes:
    """What `crm` writes to a real terminal (a pty), stdout and stderr together."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(env)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and stderr
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "crmfiles", *args], environ)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    os.close(fd)
    return out


@pytest.mark.parametrize(
    ("args", "seen"),
    [(["validate"], b"nobody"), (["list", "opportunities"], b"weighted")],
    ids=["diagnostics", "table"],
)
def test_a_dumb_terminal_gets_no_colour(repo: Path, args: list[str], seen: bytes) -> None:
    write(repo, {OPP: (repo / OPP).read_text().replace("partner: acme", "partner: nobody")})
    assert ANSI.search(on_a_terminal(repo, args, TERM="xterm-256color"))
    dumb = on_a_terminal(repo, args, TERM="dumb", CRM_PROGRESS="0")
    assert seen in dumb
    assert not ANSI.search(dumb)


def test_force_color_still_wins_on_a_dumb_terminal(repo: Path) -> None:
    write(repo, {OPP: (repo / OPP).read_text().replace("partner: acme", "partner: nobody")})
    assert ANSI.search(on_a_terminal(repo, ["validate"], TERM="dumb", FORCE_COLOR="1"))
    assert not ANSI.search(
        on_a_terminal(repo, ["validate"], TERM="xterm", FORCE_COLOR="1", NO_COLOR="1")
    )
