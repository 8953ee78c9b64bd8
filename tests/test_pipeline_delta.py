"""The money a change moves, at the top of ``crm lint --summary`` and ``crm changes``:
the open and weighted pipeline per stage and in total, before and after, and the
deals won and lost with their amounts and reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])
SECOND = "opportunities/2026/01/beta-widgets.yaml"


def two_moves(repo: Path) -> str:
    """acme-forklifts (30,000) qualify 10% -> proposal 40%; beta (5,000) lost on price."""
    write(
        repo,
        {
            SECOND: OPEN.replace("acme-forklifts", "beta-widgets")
            .replace("Acme forklifts", "Beta widgets")
            .replace("30000", "5000")
        },
    )
    commit_all(repo, "a second deal")
    base = git(repo, "rev-parse", "HEAD").strip()
    write(
        repo,
        {
            OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal").replace(
                "probability: 10", "probability: 40"
            )
        },
    )
    commit_all(repo, "crm: move acme-forklifts qualify -> proposal")
    lost = (
        OPEN.replace("acme-forklifts", "beta-widgets")
        .replace("Acme forklifts", "Beta widgets")
        .replace("30000", "5000")
        .replace("status: in_progress", "status: lost\nclosed: true\nloss_reason: price")
        .replace("probability: 10", "probability: 0")
    )
    write(repo, {SECOND: lost})
    commit_all(repo, "crm: close beta-widgets lost")
    return base


def test_the_summary_starts_with_the_money(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_moves(repo)
    capsys.readouterr()
    main(["lint", "--base", base, "--head", "HEAD", "--summary"])
    out = capsys.readouterr().out
    assert "- **+€12,000.00 weighted in Proposal**" in out
    assert "- **−€3,500.00 weighted in Qualify**" in out
    assert "- **1 deal lost: €5,000.00**" in out
    assert "| Qualify | €35,000.00 | €0.00 | −€35,000.00 | €3,500.00 | €0.00 | −€3,500.00 |" in out
    assert (
        "| Proposal | €0.00 | €30,000.00 | +€30,000.00 | €0.00 | €12,000.00 | +€12,000.00 |" in out
    )
    assert (
        "| **Total** | €35,000.00 | €30,000.00 | −€5,000.00 | €3,500.00 | €12,000.00 "
        "| +€8,500.00 |" in out
    )
    assert "- Beta widgets (`beta-widgets`): €5,000.00 (price)" in out
    assert out.index("### Pipeline") < out.index("| opportunity | from | to |")


def test_changes_carries_the_delta_in_every_format(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = two_moves(repo)
    capsys.readouterr()
    assert main(["changes", "--base", base, "--head", "HEAD", "--format", "json"]) == 0
    pipeline = json.loads(capsys.readouterr().out)["pipeline"]
    assert pipeline["currency"] == "EUR"
    assert pipeline["total"] == {
        "open_before": "35000.00",
        "open_after": "30000.00",
        "open_change": "-5000.00",
        "weighted_before": "3500.00",
        "weighted_after": "12000.00",
        "weighted_change": "8500.00",
    }
    proposal = next(s for s in pipeline["stages"] if s["stage"] == "proposal")
    assert (proposal["name"], proposal["weighted_change"]) == ("Proposal", "12000.00")
    assert pipeline["lost"] == [
        {
            "id": "beta-widgets",
            "name": "Beta widgets",
            "amount": "5000.00",
            "currency": "EUR",
            "reason": "price",
        }
    ]
    assert pipeline["won"] == []

    assert main(["changes", "--base", base, "--head", "HEAD"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "+€12,000.00 weighted in Proposal",
        "−€3,500.00 weighted in Qualify",
        "1 deal lost: €5,000.00",
    ]
    assert "  Proposal: open €0.00 → €30,000.00, weighted €0.00 → €12,000.00" in lines
    assert "  lost: Beta widgets (beta-widgets), €5,000.00 (price)" in lines
