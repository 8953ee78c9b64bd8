"""``crm close`` and ``crm reopen``: the closing fields, the rules that refuse, and
who may reopen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.errors import CrmError
from crmfiles.ops import Refused, close, reopen

OPP = "opportunities/2026/01/acme-forklifts.yaml"
BASE = dedent(BASE_FILES[OPP])
TODAY = dt.date.today().isoformat()


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def changed_lines(root: Path) -> list[str]:
    out = git(root, "show", "--format=", "--unified=0", "HEAD", "--", OPP)
    return [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def at_last_stage(root: Path) -> None:
    write(
        root,
        {
            OPP: BASE.replace("stage: qualify", "stage: commit").replace(
                "probability: 10", "probability: 90"
            )
        },
    )
    commit_all(root, "walked the stages")


def test_won_at_the_last_stage(repo: Path) -> None:
    at_last_stage(repo)
    result = close(repo, "acme-forklifts", won=True)
    assert changed_lines(repo) == [
        "-status: in_progress",
        "+status: won",
        "-probability: 90",
        "+probability: 100",
        "+closed: true",
        f"+closed_on: {TODAY}",
    ]
    assert git(repo, "log", "-1", "--format=%B") == (
        f"crm: close acme-forklifts won\n\nCrm-Record: {OPP}\nCrm-Status: won\n\n"
    )
    assert result.message == f"closed acme-forklifts as won, committed {head(repo)[:7]}"


def test_won_before_the_last_stage_is_refused(repo: Path) -> None:
    before = ((repo / OPP).read_bytes(), head(repo))
    with pytest.raises(Refused) as refused:
        close(repo, "acme-forklifts", won=True)
    assert [d.rule for d in refused.value.errors] == ["won-before-last-stage"]
    assert ((repo / OPP).read_bytes(), head(repo)) == before


def test_lost_with_reason_and_comment(repo: Path) -> None:
    close(repo, "acme-forklifts", won=False, reason="price", comment="Rival: 20% less")
    assert changed_lines(repo) == [
        "-status: in_progress",
        "+status: lost",
        "-probability: 10",
        "+probability: 0",
        "+loss_reason: price",
        '+loss_comment: "Rival: 20% less"',
        "+closed: true",
        f"+closed_on: {TODAY}",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("crm: close acme-forklifts lost (price)\n\n")
    assert "Crm-Status: lost\nCrm-Loss-Reason: price\n" in message


def test_keep_open(repo: Path) -> None:
    close(repo, "acme-forklifts", won=False, reason="no-budget", keep_open=True)
    text = (repo / OPP).read_text()
    assert "status: lost" in text and "closed" not in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"won": False}, "a lost opportunity needs a reason"),
        ({"won": False, "reason": "weather"}, "unknown loss reason 'weather'"),
        ({"won": True, "reason": "price"}, "they go with --lost"),
    ],
)
def test_bad_close_input(repo: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CrmError, match=message):
        close(repo, "acme-forklifts", **kwargs)  # type: ignore[arg-type]


def test_cli_lost_without_reason(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["close", "acme-forklifts", "--lost"]) == 2
    assert "--lost needs --reason" in capsys.readouterr().err


def test_a_closed_record_stays_closed(repo: Path) -> None:
    close(repo, "acme-forklifts", won=False, reason="price")
    with pytest.raises(CrmError, match="already closed"):
        close(repo, "acme-forklifts", won=False, reason="no-budget")
    from crmfiles.ops import move

    with pytest.raises(CrmError, match="is lost"):
        move(repo, "acme-forklifts", "proposal")


def test_reopen_is_for_managers(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    close(repo, "acme-forklifts", won=False, reason="price", comment="too dear")
    closed = head(repo)
    with pytest.raises(Refused) as refused:
        reopen(repo, "acme-forklifts")
    assert [d.rule for d in refused.value.errors] == ["reopen-not-allowed"]
    assert head(repo) == closed
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "mia@example.com")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Mia")
    result = reopen(repo, "acme-forklifts")
    text = (repo / OPP).read_text()
    assert "status: in_progress" in text and "probability: 10" in text
    assert "closed: false" in text
    for gone in ("closed_on", "loss_reason", "loss_comment"):
        assert gone not in text
    assert git(repo, "log", "-1", "--format=%an %s").strip() == "Mia crm: reopen acme-forklifts"
    assert result.message.startswith("reopened acme-forklifts (was lost)")


def test_reopen_an_open_one(repo: Path) -> None:
    with pytest.raises(CrmError, match="nothing to reopen"):
        reopen(repo, "acme-forklifts")


def test_winning_makes_a_prospect_a_customer_in_the_same_commit(repo: Path) -> None:
    write(
        repo,
        {"partners/acme.yaml": "id: acme\nname: Acme GmbH  # since 2019\nroles: [prospect]\n"},
    )
    at_last_stage(repo)
    result = close(repo, "acme-forklifts", won=True)
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == [
        OPP,
        "partners/acme.yaml",
    ]
    assert (repo / "partners/acme.yaml").read_text() == (
        "id: acme\nname: Acme GmbH  # since 2019\nroles: [prospect, customer]\n"
    )
    assert git(repo, "log", "-1", "--format=%s").strip() == (
        "crm: close acme-forklifts won; acme is a customer now"
    )
    assert "acme is a customer now" in result.message
    assert main(["validate"]) == 0


def test_winning_leaves_a_customer_alone(repo: Path) -> None:
    at_last_stage(repo)  # the fixture's acme is a customer already
    close(repo, "acme-forklifts", won=True)
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [OPP]


def test_losing_does_not_make_a_customer(repo: Path) -> None:
    write(repo, {"partners/acme.yaml": "id: acme\nname: Acme GmbH\nroles: [prospect]\n"})
    commit_all(repo, "a prospect")
    close(repo, "acme-forklifts", won=False, reason="price")
    assert "roles: [prospect]" in (repo / "partners/acme.yaml").read_text()
