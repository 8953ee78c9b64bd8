"""``crm tasks`` (My tasks) and ``crm task start|done``, on a real repository."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles.cli.main import main

TODAY = dt.date.today()
PAST = (TODAY - dt.timedelta(days=3)).isoformat()
SOON = (TODAY + dt.timedelta(days=3)).isoformat()


@pytest.fixture
def tasks(repo: Path) -> Path:
    def task(tid: str, assignee: str, due: str, importance: str, **more: str) -> str:
        extra = "".join(f"{k}: {v}\n" for k, v in more.items())
        return (
            f"id: {tid}\ntitle: Do {tid}\nassignee: {assignee}\ndue: {due}\n"
            f"importance: {importance}\nsubject:\n  type: opportunity\n  id: acme-forklifts\n"
            f"created: 2026-01-10\n{extra}"
        )

    write(
        repo,
        {
            "tasks/a-late.yaml": task("a-late", "alice", PAST, "normal", instructions="Call."),
            "tasks/b-soon-high.yaml": task("b-soon-high", "alice", SOON, "high"),
            "tasks/c-soon-low.yaml": task("c-soon-low", "alice", SOON, "low"),
            "tasks/d-bobs.yaml": task("d-bobs", "bob", PAST, "high"),
            "tasks/e-done.yaml": task(
                "e-done", "alice", PAST, "high", completed="true", completed_on=PAST
            ),
        },
    )
    commit_all(repo, "tasks")
    return repo


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["tasks", *args, "--format", "json"]) == 0
    return [t["id"] for t in json.loads(capsys.readouterr().out)["tasks"]]


def test_my_open_tasks_by_due_date_most_important_first(
    tasks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert listed(capsys) == ["a-late", "b-soon-high", "c-soon-low"]
    assert listed(capsys, "--overdue") == ["a-late"]
    assert listed(capsys, "--all", "--overdue") == ["d-bobs", "a-late"]  # high first
    assert listed(capsys, "--done") == ["e-done", "a-late", "b-soon-high", "c-soon-low"]


def test_the_text_shows_the_subject_and_instructions(
    tasks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert f"{PAST}  normal  a-late  OVERDUE" in out
    assert "Do a-late  (about opportunity acme-forklifts)" in out
    assert "| Call." in out
    assert out.rstrip().endswith("3 tasks (alice's)")


def test_a_stranger_is_told_why_there_is_nothing(
    tasks: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "stranger@example.com")
    assert main(["tasks"]) == 2
    assert "nobody in catalogs/people.yaml" in capsys.readouterr().err


def test_start_and_done_commit_once_each(tasks: Path) -> None:
    assert main(["task", "start", "a-late"]) == 0
    assert git(tasks, "log", "-1", "--format=%s").strip() == "crm: task start a-late (started)"
    text = (tasks / "tasks/a-late.yaml").read_text()
    started = next(line for line in text.splitlines() if line.startswith("started:"))
    assert started.removeprefix("started: ").strip('"').startswith(TODAY.isoformat())
    assert main(["task", "done", "a-late", "--result", "Spoke to the buyer", "--on", PAST]) == 0
    text = (tasks / "tasks/a-late.yaml").read_text()
    assert "completed: true" in text and f"completed_on: {PAST}" in text
    assert "result: Spoke to the buyer" in text
    assert git(tasks, "status", "--porcelain") == ""
    assert main(["validate"]) == 0


def test_done_refuses_a_future_date_and_an_unknown_task(
    tasks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["task", "done", "a-late", "--on", "2999-01-01"]) == 2
    assert main(["task", "done", "acme-forklifts"]) == 2  # an opportunity, not a task
    assert "no record with id 'acme-forklifts' in tasks/" in capsys.readouterr().err
