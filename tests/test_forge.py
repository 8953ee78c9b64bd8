"""crm codeowners and crm changes, in real repositories through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import commit_all, write


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args], cwd=root, capture_output=True, text=True
    )


PEOPLE = """\
- id: alice
  name: Alice Martin
  emails: [alice@example.com]
  roles: [sales]
  forge: alice-gh
- id: bob
  name: Bob Stone
  emails: [bob@example.com]
  roles: [sales]
- id: mia
  name: Mia Chef
  emails: [mia@example.com]
  roles: [manager]
  forge: "@mia"
"""


def test_codeowners_routes_each_opportunity_to_its_responsible_and_the_managers(
    repo: Path,
) -> None:
    write(repo, {"catalogs/people.yaml": PEOPLE})
    proc = crm(repo, "codeowners")
    assert proc.returncode == 0, proc.stderr
    lines = (repo / "CODEOWNERS").read_text().splitlines()
    assert "* @mia" in lines
    assert "/catalogs/ @mia" in lines
    assert "/opportunities/2026/01/acme-forklifts.yaml @alice-gh @mia" in lines
    assert crm(repo, "codeowners", "--check").returncode == 0


def test_codeowners_warns_about_people_without_a_handle_and_check_sees_drift(
    repo: Path,
) -> None:
    write(repo, {"catalogs/people.yaml": PEOPLE})
    assert crm(repo, "codeowners").returncode == 0
    text = (repo / "opportunities/2026/01/acme-forklifts.yaml").read_text()
    write(
        repo,
        {
            "opportunities/2026/01/acme-forklifts.yaml": text.replace(
                "responsible: alice", "responsible: bob"
            )
        },
    )
    check = crm(repo, "codeowners", "--check")
    assert check.returncode == 1
    assert "out of date" in check.stdout
    proc = crm(repo, "codeowners")
    assert "no forge handle" in proc.stderr and "acme-forklifts" in proc.stderr
    assert "/opportunities/2026/01/acme-forklifts.yaml @mia" in (repo / "CODEOWNERS").read_text()


def test_changes_lists_what_moved_between_two_revisions(repo: Path) -> None:
    base = commit_all(repo, "start")
    path = "opportunities/2026/01/acme-forklifts.yaml"
    text = (repo / path).read_text()
    write(repo, {path: text.replace("stage: qualify", "stage: proposal")})
    commit_all(repo, "move")
    proc = crm(repo, "changes", "--base", base, "--head", "HEAD", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [moved] = json.loads(proc.stdout)["moved"]
    assert (moved["id"], moved["from"], moved["to"], moved["amount"]) == (
        "acme-forklifts",
        "qualify",
        "proposal",
        "30000.00",  # money in JSON: a decimal string with two places
    )
    table = crm(repo, "changes", "--base", base, "--head", "HEAD")
    assert "acme-forklifts" in table.stdout and "proposal" in table.stdout
    nothing = crm(repo, "changes")
    assert "No opportunity changed" in nothing.stdout
