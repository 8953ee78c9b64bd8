"""Who I am: one rule for the CLI, the operations and the TUI (crmfiles/people.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crmfiles.people import person_for_email, who_am_i

PEOPLE = {
    "anna": {"name": "Anna", "emails": ["Anna@Example.com"], "roles": ["sales"]},
    "tom": {"name": "Tom", "emails": ["tom@example.com"], "roles": ["manager", "admin"]},
}


def crm(root: Path, *args: str, email: str | None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "GIT_AUTHOR_EMAIL": email or ""}
    if email is None:
        env.pop("GIT_AUTHOR_EMAIL")
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_git_email_decides_case_insensitively() -> None:
    assert person_for_email(PEOPLE, "anna@example.COM") == "anna"
    assert person_for_email(PEOPLE, "nobody@example.com") is None
    assert person_for_email(PEOPLE, None) is None


def test_crm_yaml_me_is_only_a_fallback() -> None:
    me = who_am_i(PEOPLE, "tom@example.com", "anna")
    assert (me.person, me.id) == ("tom", "tom")  # the e-mail wins over crm.yaml
    me = who_am_i(PEOPLE, "stranger@example.com", "anna")
    assert (me.person, me.id) == (None, "anna")
    assert who_am_i(PEOPLE, "stranger@example.com", "ghost").id is None  # not in people


def test_whoami_names_the_person_and_their_roles(repo: Path) -> None:
    proc = crm(repo, "whoami", email="bob@example.com")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "Bob Stone (bob), bob@example.com"
    assert "roles: sales" in proc.stdout


def test_whoami_says_plainly_when_the_email_is_nobody(repo: Path) -> None:
    proc = crm(repo, "whoami", email="stranger@example.com")
    assert proc.returncode == 0
    assert "git's e-mail stranger@example.com belongs to nobody in catalogs/people.yaml" in (
        proc.stdout
    )
    assert "author-not-allowed" in proc.stdout
    payload = json.loads(crm(repo, "whoami", "--format", "json", email="x@example.com").stdout)
    assert payload["person"] is None and payload["email"] == "x@example.com"


@pytest.mark.parametrize("email", ["alice@example.com"])
def test_workspace_and_tui_agree(repo: Path, email: str) -> None:
    from crmfiles.ops.workspace import Workspace
    from crmfiles.tui.data import TuiSnapshot

    with (repo / "crm.yaml").open("a") as handle:
        handle.write("me: bob\n")
    with Workspace(repo) as ws:
        from_ops = ws.me
    from_tui = TuiSnapshot.load(repo).me(email)
    assert from_ops == from_tui == "alice"


def test_the_demo_acts_as_a_salesperson_of_the_example_company(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmfiles.ops.demo import make_demo

    for variable in ("GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    root = make_demo(tmp_path / "demo")
    proc = crm(root, "whoami", "--format", "json", email=None)
    payload = json.loads(proc.stdout)
    assert payload["person"] == "anna.becker"
    assert payload["roles"] == ["sales"]
