"""The review workflow end to end, locally: a salesperson's ``crm move --branch`` is
pushed to a bare remote guarded by ``crm server install``; the GitHub workflow's crm
steps, read from pipeline-config/github-workflow.yml, run on a clone checked out at
the pushed branch and produce the annotations, the run summary and the dashboard; a
manager merges with an ``Approved-by:`` trailer and pushes; in a fresh clone
``crm history`` names the merge and its approver and ``crm blame`` the salesperson.

Every person is a git identity of the example company's catalogs/people.yaml; every
``crm`` is ``sys.executable -m crmfiles`` in its own process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline_templates import GITHUB_WORKFLOW, crm_words, load, template_commands

DOMAIN = "nordwind-industrial.example"
ANNA = ("Anna Becker", f"anna.becker@{DOMAIN}")  # sales, responsible for the conveyor
THOMAS = ("Thomas Richter", f"thomas.richter@{DOMAIN}")  # manager
JONAS = ("Jonas Weber", f"jonas.weber@{DOMAIN}")  # admin: sets the repository up
DEAL = "schaerer-lagertechnik-conveyor"  # Anna's, proposal -> negotiation
OLGAS = "thames-valley-foods-service"  # Olga's: Anna moving it is the broken change
BRANCH = f"crm/{DEAL}-negotiation"


def env_of(who: tuple[str, str], **extra: str) -> dict[str, str]:
    """The test's environment (isolated git config) with ``who`` as author and committer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMM"))}
    env.update(
        GIT_AUTHOR_NAME=who[0],
        GIT_AUTHOR_EMAIL=who[1],
        GIT_COMMITTER_NAME=who[0],
        GIT_COMMITTER_EMAIL=who[1],
        CRM_PROGRESS="0",
    )
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def crm(cwd: Path, who: tuple[str, str], *args: str) -> str:
    return ok(run([sys.executable, "-m", "crmfiles", *args], cwd, env_of(who)))


def git(cwd: Path, who: tuple[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = run(["git", *args], cwd, env_of(who))
    ok(done)
    return done


def crm_on_path(tmp_path: Path) -> str:
    """A folder whose ``crm`` runs this crmfiles (as the workflow's install step would)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shim = folder / "crm"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m crmfiles "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def pull_request_steps(target: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, shell line, env) of each crm step the workflow runs on a pull request,
    with the workflow's and the step's env and ``github.base_ref`` as ``target``."""
    workflow = load(GITHUB_WORKFLOW)

    def expand(value: Any) -> str:
        text = str(value).replace("${{ github.base_ref }}", target)
        assert "${{" not in text, f"an expression this test does not fill in: {text}"
        return text

    steps = []
    for step in workflow["jobs"]["crm-lint"]["steps"]:
        line = str(step.get("run", "")).strip()
        if crm_words(line) is None or "pull_request" not in str(step.get("if", "")):
            continue
        env = {k: expand(v) for k, v in {**workflow["env"], **step.get("env", {})}.items()}
        steps.append((step["name"], line, env))
    return steps


def test_a_move_goes_from_branch_through_ci_and_review_into_history(tmp_path: Path) -> None:
    # --- the server: a bare repository whose pre-receive hook lints every push
    origin = tmp_path / "crm.git"
    git(tmp_path, JONAS, "init", "-q", "--bare", str(origin))
    url = origin.as_uri()
    crm(tmp_path, JONAS, "init", "--example", "setup")
    # the existing data goes in first: its one commit creates deals mid-funnel, which
    # the hook would judge as new opportunities skipping their first stage
    git(tmp_path / "setup", JONAS, "push", "-q", url, "main")
    crm(tmp_path, JONAS, "server", "install", str(origin), "--branch", "main")

    # --- Anna moves her deal on a branch, then (wrongly) Olga's, and pushes
    anna = tmp_path / "anna"
    git(tmp_path, ANNA, "clone", "-q", url, str(anna))
    moved = crm(anna, ANNA, "move", DEAL, "negotiation", "--branch")
    assert f"on branch {BRANCH}" in moved
    assert git(anna, ANNA, "branch", "--show-current").stdout.strip() == "main"
    git(anna, ANNA, "checkout", "-q", BRANCH)
    move_commit = git(anna, ANNA, "rev-parse", "HEAD").stdout.strip()
    crm(anna, ANNA, "move", OLGAS, "site-survey")
    pushed = git(anna, ANNA, "push", "-u", "origin", BRANCH)
    # the hook reports the warning to the pusher and accepts the branch
    assert "[author-not-allowed]" in pushed.stderr and "refused" not in pushed.stderr

    # --- CI: the workflow's crm steps, as written in the template, on the pushed branch
    ci = tmp_path / "ci"
    git(tmp_path, JONAS, "clone", "-q", url, str(ci))
    git(ci, JONAS, "checkout", "-q", BRANCH)
    summary = tmp_path / "step-summary.md"
    summary.write_text("")
    path = crm_on_path(tmp_path)
    steps = pull_request_steps("main")
    github_lines = [line for where, line in template_commands() if where == "github"]
    # the annotations, the summary and the dashboard: lines of the template, unchanged
    assert len(steps) == 3 and {line for _, line, _ in steps} <= set(github_lines)
    outputs = {}
    for name, line, step_env in steps:
        env = env_of(JONAS, PATH=path, GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTIONS="true")
        env.update(step_env)
        done = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", line], ci, env)
        outputs[name] = ok(done)  # a warning fails no step
    words = {name: crm_words(line) for name, line, _ in steps}
    annotations = next(outputs[n] for n, w in words.items() if w and "github" in w)
    warning = [a for a in annotations.splitlines() if a.startswith("::warning ")]
    assert len(warning) == 1
    assert f"{OLGAS}.yaml" in warning[0] and "title=author-not-allowed" in warning[0]
    assert "responsible is 'olga.ivanova'" in warning[0]
    table = summary.read_text("utf-8")
    assert "### Pipeline" in table and "weighted in Negotiation**" in table
    assert f"(`{DEAL}`) | proposal | negotiation | 96,100.00 CHF | Anna Becker | ok |" in table
    assert f"(`{OLGAS}`) | qualify | site-survey |" in table and "`author-not-allowed`" in table
    dashboard = ci / "crm-dashboard" / "index.html"
    assert DEAL in dashboard.read_text("utf-8")

    # --- Thomas (manager) reviews and merges with a merge commit that names him
    thomas = tmp_path / "thomas"
    git(tmp_path, THOMAS, "clone", "-q", url, str(thomas))
    message = (
        f"Merge pull request #7 from abecker/{BRANCH}\n\nMove the Schärer conveyor\n\n"
        f"Approved-by: {THOMAS[0]} <{THOMAS[1]}>\n"
    )
    git(thomas, THOMAS, "merge", "-q", "--no-ff", "-m", message, f"origin/{BRANCH}")
    merge = git(thomas, THOMAS, "rev-parse", "HEAD").stdout.strip()
    merged = git(thomas, THOMAS, "push", "origin", "main")
    assert "crm: checking main" in merged.stderr and "refused" not in merged.stderr

    # --- anyone, later: the history and blame of the deal
    later = tmp_path / "later"
    git(tmp_path, JONAS, "clone", "-q", url, str(later))
    history = crm(later, JONAS, "history", DEAL)
    assert f"merge {merge[:7]} (#7), approved by Thomas Richter" in history
    events = json.loads(crm(later, JONAS, "history", DEAL, "--format", "json"))["events"]
    last = events[-1]
    assert (last["from"], last["to"]) == ("proposal", "negotiation")
    assert last["author"] == "Anna Becker"
    assert last["approval"]["merge"] == merge
    assert last["approval"]["approved_by"] == [f"{THOMAS[0]} <{THOMAS[1]}>"]
    blame = json.loads(crm(later, JONAS, "blame", DEAL, "--format", "json"))
    stage = next(f for f in blame["fields"] if f["field"] == "stage")
    assert (stage["value"], stage["previous"]) == ("negotiation", "proposal")
    assert (stage["author"], stage["email"], stage["commit"]) == (*ANNA, move_commit)
    table_view = crm(later, JONAS, "blame", DEAL)
    assert any(
        row.split()[:2] == ["stage", "negotiation"] and "Anna Becker" in row
        for row in table_view.splitlines()
    )
