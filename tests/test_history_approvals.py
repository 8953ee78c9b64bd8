"""``crm history ID``: a change that arrived by a merge shows the merge commit and who
approved it, as the forge wrote it into the merge commit's message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])


def merged(repo: Path, message: str) -> str:
    git(repo, "checkout", "-qb", "deal")
    write(repo, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal")})
    commit_all(repo, "crm: move acme-forklifts qualify -> proposal", "bob@example.com")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", message, "deal")
    return git(repo, "rev-parse", "HEAD").strip()


def test_a_github_merge_with_trailers(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merge = merged(
        repo,
        "Merge pull request #12 from sales/deal\n\nMove Acme\n\n"
        "Approved-by: Carol Diaz <carol@example.com>\nReviewed-by: Dan <dan@example.com>\n",
    )
    capsys.readouterr()
    assert main(["history", "acme-forklifts", "--format", "json"]) == 0
    moved = json.loads(capsys.readouterr().out)["events"][-1]
    assert moved["merge"] == merge
    assert moved["approval"] == {
        "merge": merge,
        "request": "#12",
        "approved_by": ["Carol Diaz <carol@example.com>"],
        "reviewed_by": ["Dan <dan@example.com>"],
    }
    assert main(["history", "acme-forklifts"]) == 0
    out = capsys.readouterr().out
    assert f"merge {merge[:7]} (#12), approved by Carol Diaz" in out


def test_gitlabs_merge_commit_template(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merge = merged(
        repo,
        "Merge branch 'deal' into 'main'\n\nMove Acme\n\nSee merge request sales/crm!34\n\n"
        "Approved-by: Carol Diaz <carol@example.com>\n",
    )
    capsys.readouterr()
    assert main(["history", "acme-forklifts", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].endswith(",approved_by")
    assert rows[-1].endswith(",Carol Diaz <carol@example.com>")
    assert main(["history", "acme-forklifts", "--format", "json"]) == 0
    approval = json.loads(capsys.readouterr().out)["events"][-1]["approval"]
    assert (approval["merge"], approval["request"]) == (merge, "!34")


def test_a_direct_commit_has_no_approval(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal")})
    commit_all(repo, "crm: move acme-forklifts qualify -> proposal")
    capsys.readouterr()
    assert main(["history", "acme-forklifts", "--format", "json"]) == 0
    assert all(e["approval"] is None for e in json.loads(capsys.readouterr().out)["events"])
    assert main(["history", "acme-forklifts"]) == 0
    assert "merged" not in capsys.readouterr().out
