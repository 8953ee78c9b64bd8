"""A read-only command's answer is kept and given again while nothing it was made from
changed (:mod:`crmfiles.answers`): the same question of the same tree, HEAD and day.
Every change a list can see makes it answer afresh, as a cold read does."""

from __future__ import annotations

import marshal
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_list_early import assert_as_cold, crm, edit, listing, warm_copy
from test_list_table import environment, example  # noqa: F401 - the example company fixture

ANSWERS = Path(".git/crmfiles/answers")
MARK = "a kept answer\n"


def kept(repo: Path) -> list[Path]:
    return sorted((repo / ANSWERS).glob("*.marshal"))


def written(repo: Path) -> list[Path]:
    """The kept answers, once one is there (a detached process writes it after the
    answer): none after 20 seconds."""
    deadline = time.monotonic() + 20
    while not kept(repo) and time.monotonic() < deadline:
        time.sleep(0.05)
    return kept(repo)


def forget(repo: Path) -> None:
    """Remove the kept answers, the warm copy's first one included once written."""
    for path in written(repo):
        path.unlink()


def answered_twice(repo: Path, *args: str) -> str:
    """Ask, wait for the answer to be kept (by a detached process), and mark every kept
    answer so that giving one again shows."""
    first = listing(repo, *args)
    assert first.returncode == 0, first.stderr
    assert written(repo), "no answer was kept"
    time.sleep(0.2)  # (the other questions' answers, written meanwhile)
    for path in kept(repo):
        tree, head, header, _ = marshal.loads(path.read_bytes())
        path.write_bytes(marshal.dumps((tree, head, header, MARK.encode())))
    return first.stdout


def git(repo: Path, *args: str) -> None:
    env = environment(repo.parent, None)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def deal(repo: Path) -> Path:
    return next(
        p
        for p in (repo / "opportunities").rglob("*.yaml")
        if p.stem == "brauerei-falkenstein-rental-2025"
    )


def test_the_same_question_of_the_same_tree_is_answered_as_before(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    repo = warm_copy(example, tmp_path)
    answered_twice(repo, "--no-view")
    again = listing(repo, "--no-view")
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(MARK)
    # the header is kept beside it, and another question is answered afresh
    assert again.stdout.splitlines()[0].split()[:2] == ["id", "name"]
    other = listing(repo, "--no-view", "--format", "csv")
    assert MARK not in other.stdout
    assert MARK not in listing(repo, "--no-view", cold=True).stdout


def _unstaged(repo: Path) -> None:
    edit(deal(repo), "name: Brauerei Falkenstein – harvest", "name: Edited harvest")


def _staged(repo: Path) -> None:
    _unstaged(repo)
    git(repo, "add", "-A")


def _committed(repo: Path) -> None:
    _staged(repo)
    git(repo, "commit", "-qm", "renamed")


def _untracked(repo: Path) -> None:
    path = deal(repo)
    copy = path.with_name("falkenstein-copy.yaml")
    copy.write_text(path.read_text("utf-8").replace(path.stem, "falkenstein-copy"), "utf-8")


def _deleted(repo: Path) -> None:
    deal(repo).unlink()


def _partner_renamed(repo: Path) -> None:
    path = repo / "partners" / "brauerei-falkenstein.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("name: ", "name: Renamed ", 1), "utf-8")


def _catalog(repo: Path) -> None:
    path = repo / "catalogs" / "currencies.yaml"
    path.write_text(path.read_text("utf-8") + "\n# a comment: another blob\n", "utf-8")


def _config(repo: Path) -> None:
    path = repo / "crm.yaml"
    path.write_text(path.read_text("utf-8") + "\n# a comment: another blob\n", "utf-8")


def _empty_commit(repo: Path) -> None:  # (days in stage come from history)
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")


CHANGES: dict[str, Callable[[Path], None]] = {
    "an edit": _unstaged,
    "a staged edit": _staged,
    "a commit": _committed,
    "an untracked record": _untracked,
    "a deleted record": _deleted,
    "a partner renamed": _partner_renamed,
    "a catalog changed": _catalog,
    "crm.yaml changed": _config,
    "HEAD moved": _empty_commit,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_is_answered_afresh(
    example: Path,  # noqa: F811
    tmp_path: Path,
    change: str,
) -> None:
    repo = warm_copy(example, tmp_path)
    args = ("--no-view", "--columns", "id,name,partner_name,amount,days_in_stage")
    answered_twice(repo, *args)
    CHANGES[change](repo)
    out = assert_as_cold(repo, *args)
    assert MARK not in out


def test_another_width_is_another_question(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    answered_twice(repo, "--no-view")
    env = environment(tmp_path, None) | {"COLUMNS": "80"}
    narrow = subprocess.run(
        [*crm_command(), "list", "opportunities", "--no-view"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert narrow.returncode == 0, narrow.stderr
    assert MARK not in narrow.stdout
    assert max(map(len, narrow.stdout.splitlines())) <= 80


def crm_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "crmfiles"]


def test_an_answer_that_warned_is_not_kept(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    forget(repo)
    broken = repo / "opportunities" / "broken.yaml"
    broken.write_text("id: broken\nname: [unclosed\n", "utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a broken record")
    for _ in range(2):
        said = listing(repo, "--no-view")
        assert said.returncode == 0
        assert "broken.yaml" in said.stderr  # warned every time, not only the first
    time.sleep(0.5)
    assert kept(repo) == []


def test_an_answer_with_a_control_character_is_not_kept(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A kept answer is written as it was kept (bytes, not through the escaping of
    the output): one that holds a control character, which the output escapes, is
    worked out every time."""
    repo = warm_copy(example, tmp_path)
    forget(repo)
    # (YAML's own escape: the file holds no control character, the value does)
    edit(deal(repo), "name: Brauerei Falkenstein – harvest", 'name: "Brauerei \\e[31mred" #')
    git(repo, "commit", "-qam", "a control character")
    for _ in range(2):
        said = listing(repo, "--no-view", "--columns", "id,name")
        assert said.returncode == 0, said.stderr
        assert "\x1b" not in said.stdout and "red" in said.stdout
    time.sleep(0.5)
    assert kept(repo) == []


def test_outside_git_nothing_is_kept(example: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = warm_copy(example, tmp_path)
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-r", str(repo), str(plain)], check=True)
    subprocess.run(["rm", "-rf", str(plain / ".git")], check=True)
    for _ in range(2):
        assert crm(plain, "list", "opportunities", "--no-view").returncode == 0
    assert not (plain / ".git").exists()


@pytest.mark.parametrize("report", ["funnel", "winloss", "dropoff", "activity"])
def test_a_report_for_a_program_is_kept_and_asked_afresh_after_an_edit(
    example: Path,  # noqa: F811
    tmp_path: Path,
    report: str,
) -> None:
    repo = warm_copy(example, tmp_path)
    args = ("report", report, "--format", "json")
    forget(repo)
    first = crm(repo, *args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == crm(repo, *args, cold=True).stdout
    (path,) = written(repo)
    tree, head, header, _ = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps((tree, head, header, MARK.encode())))
    assert crm(repo, *args).stdout == MARK
    _staged(repo)
    assert_as_cold(repo, "--from", "2020-01-01", report=report)
    fresh = crm(repo, *args)
    assert fresh.stdout != MARK and fresh.stdout == crm(repo, *args, cold=True).stdout


def test_a_file_written_back_as_it_was_is_not_an_edit(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """git names a file whose stat data changed until the index is refreshed; its
    content is the staged blob's, so the kept answer is still the answer."""
    repo = warm_copy(example, tmp_path)
    args = ("--no-view", "--columns", "id,name,amount")
    answered_twice(repo, *args)
    path = deal(repo)
    path.write_bytes(path.read_bytes())
    later_ = time.time() + 5
    os.utime(path, (later_, later_))
    again = listing(repo, *args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(MARK)
