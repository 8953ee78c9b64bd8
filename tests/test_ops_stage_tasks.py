"""A stage's task templates become tasks whenever an opportunity enters the stage by an
operation: created, duplicated, qualified from a lead, moved, reopened into it; never
by an import (records brought in from elsewhere keep their own history)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles.cli.main import main
from crmfiles.ops import close, create, duplicate, qualify, reopen

OPP = "opportunities/2026/01/acme-forklifts.yaml"


@pytest.fixture
def tasks_at_qualify(repo: Path) -> Path:
    stages = (repo / "catalogs/stages.yaml").read_text()
    stages = stages.replace(
        "  probability: 10\n",
        "  probability: 10\n"
        "  tasks:\n"
        "    - title: Call the buyer\n"
        "      instructions: Ask for the budget and the timeline.\n"
        "      due_days: 3\n"
        "      importance: high\n",
        1,
    )
    write(repo, {"catalogs/stages.yaml": stages})
    commit_all(repo, "a task when a deal starts")
    return repo


def new_files(root: Path) -> list[str]:
    return git(root, "show", "--name-only", "--format=", "HEAD").split()


def tasks_in_head(root: Path) -> list[str]:
    return [p for p in new_files(root) if p.startswith("tasks/")]


def test_a_new_opportunity_gets_its_first_stage_tasks(tasks_at_qualify: Path) -> None:
    result = create(
        tasks_at_qualify,
        "opportunities",
        {"name": "Racking", "partner": "acme", "kind": "standard-sale"},
    )
    [task] = tasks_in_head(tasks_at_qualify)
    text = (tasks_at_qualify / task).read_text()
    assert "title: Call the buyer" in text and "id: racking" in text
    assert "assignee: alice" in text  # the responsible person (me)
    assert "created task" in result.message
    assert main(["validate"]) == 0


def test_a_duplicate_gets_them(tasks_at_qualify: Path) -> None:
    duplicate(tasks_at_qualify, "acme-forklifts", name="Acme forklifts, second site")
    assert len(tasks_in_head(tasks_at_qualify)) == 1


def test_a_qualified_lead_gets_them(tasks_at_qualify: Path) -> None:
    write(
        tasks_at_qualify,
        {
            "leads/2026/03/hafen.yaml": "id: hafen\nname: Hafen cranes\nstatus: new\n"
            "company: Hafen AG\nresponsible: bob\ncreated: 2026-03-02\n"
        },
    )
    commit_all(tasks_at_qualify, "a lead")
    qualify(tasks_at_qualify, "hafen", kind="standard-sale")
    [task] = tasks_in_head(tasks_at_qualify)
    assert "assignee: bob" in (tasks_at_qualify / task).read_text()


def test_a_reopened_opportunity_gets_them_again(
    tasks_at_qualify: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    close(tasks_at_qualify, "acme-forklifts", won=False, reason="price")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "mia@example.com")  # a manager reopens
    reopen(tasks_at_qualify, "acme-forklifts")
    assert len(tasks_in_head(tasks_at_qualify)) == 1


def test_an_import_does_not(tasks_at_qualify: Path) -> None:
    root = tasks_at_qualify
    (root.parent / "deals.csv").write_text("Deal\nRacking\n")
    (root.parent / "map.yaml").write_text(
        "columns:\n  Deal: name\ndefaults:\n  kind: standard-sale\n  stage: qualify\n"
        "  status: in_progress\n  partner: acme\n  responsible: alice\n"
    )
    args = ["import", "csv", str(root.parent / "deals.csv"), "--type", "opportunities"]
    assert main([*args, "--map", str(root.parent / "map.yaml")]) == 0
    assert tasks_in_head(root) == []
