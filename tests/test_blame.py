"""``crm blame ID``: every field of a record, who last changed it, when, in which
commit, and what it was before; renames are followed, later commits are added to
what an earlier run read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])


def blame(capsys: pytest.CaptureFixture[str], *words: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["blame", *words, "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["version"] == 1
    return {f["field"]: f for f in payload["fields"]}


def test_each_field_names_its_last_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal")})
    moved = commit_all(repo, "crm: move acme-forklifts qualify -> proposal", "bob@example.com")
    write(
        repo,
        {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal") + "next_milestone: Demo\n"},
    )
    noted = commit_all(repo, "a milestone", "carol@example.com")

    fields = blame(capsys, "acme-forklifts")
    assert fields["stage"]["commit"] == moved
    assert fields["stage"]["author"] == "Bob"
    assert fields["stage"]["email"] == "bob@example.com"
    assert (fields["stage"]["previous"], fields["stage"]["value"]) == ("qualify", "proposal")
    assert fields["next_milestone"]["commit"] == noted
    assert fields["next_milestone"]["added"] is True
    assert fields["next_milestone"]["previous"] is None
    assert fields["name"]["commit"] == first
    assert fields["name"]["added"] is True

    capsys.readouterr()
    assert main(["blame", "opportunities/acme-forklifts"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == f"{OPPORTUNITY} (3 commits)"
    stage = next(r.split() for r in rows if r.startswith("stage "))
    assert stage == ["stage", "proposal", "Bob", stage[3], moved[:10], "qualify"]


def test_a_later_commit_and_a_rename_are_followed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert blame(capsys, "acme-forklifts")["stage"]["value"] == "qualify"  # (cached now)
    write(repo, {OPPORTUNITY: OPEN.replace("probability: 10", "probability: 15")})
    later = commit_all(repo, "a bit more likely", "carol@example.com")
    assert blame(capsys, "acme-forklifts")["probability"]["commit"] == later  # the new commit
    moved_to = "opportunities/2026/02/acme-forklifts.yaml"
    (repo / "opportunities/2026/02").mkdir(parents=True)
    git(repo, "mv", OPPORTUNITY, moved_to)
    commit_all(repo, "file it under February")
    write(repo, {moved_to: OPEN.replace("probability: 10", "probability: 20")})
    changed = commit_all(repo, "more likely", "bob@example.com")

    fields = blame(capsys, "acme-forklifts")
    assert fields["probability"]["commit"] == changed
    assert fields["probability"]["previous"] == 15
    assert fields["stage"]["value"] == "qualify"
    assert fields["stage"]["added"] is True  # from the first commit, before the rename


def test_an_unknown_record_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["blame", "no-such-deal"]) == 2
    assert "no record with id 'no-such-deal' at HEAD" in capsys.readouterr().err
    assert main(["blame", "widgets/acme"]) == 2
    assert "unknown record type 'widgets'" in capsys.readouterr().err


def test_a_merge_of_commits_of_the_same_second_keeps_their_order(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch merged with --no-ff in the second it was made: git's date order may
    list the root before the branch's commits; blame walks children before parents."""
    when = git(repo, "log", "-1", "--format=%cI").strip()
    monkeypatch.setenv("GIT_AUTHOR_DATE", when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)
    git(repo, "checkout", "-qb", "deal")
    write(repo, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal")})
    moved = commit_all(repo, "crm: move acme-forklifts qualify -> proposal", "bob@example.com")
    write(repo, {"notes.txt": "unrelated\n"})
    commit_all(repo, "an unrelated file", "bob@example.com")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge deal", "deal")

    stage = blame(capsys, "acme-forklifts")["stage"]
    assert (stage["value"], stage["previous"], stage["commit"]) == ("proposal", "qualify", moved)
