"""``crm report forecast --compare REV``: this revision's weighted forecast per month
beside REV's, and the difference (a branch with edited probabilities against main)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])


def test_a_branch_against_main(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-qb", "optimistic")
    write(repo, {OPPORTUNITY: OPEN.replace("probability: 10", "probability: 30")})
    commit_all(repo, "more likely than we said")
    capsys.readouterr()

    assert main(["report", "forecast", "--compare", "main", "--format", "json"]) == 0
    compare = json.loads(capsys.readouterr().out)["compare"]
    assert compare["rev"] == "main"
    assert compare["commit"] == git(repo, "rev-parse", "main").strip()
    assert compare["months"] == [
        {
            "month": "2026-06",
            "weighted": "9000.00",
            "compare_weighted": "3000.00",
            "difference": "6000.00",
        }
    ]
    assert compare["total"]["difference"] == "6000.00"

    assert main(["report", "forecast", "--compare", "main"]) == 0
    out = capsys.readouterr().out
    assert "Weighted forecast: this revision against main" in out
    assert ["2026-06", "9,000.00", "3,000.00", "+6,000.00"] in [
        line.split() for line in out.splitlines()
    ]

    assert main(["report", "forecast", "--compare", "main", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "month,weighted,compare_weighted,difference",
        "2026-06,9000.00,3000.00,6000.00",
    ]


def test_compare_is_for_the_forecast_and_a_known_revision(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "funnel", "--compare", "main"]) == 2
    assert "--compare is for the forecast" in capsys.readouterr().err
    assert main(["report", "forecast", "--compare", "nowhere"]) == 2
    assert "unknown revision 'nowhere'" in capsys.readouterr().err
