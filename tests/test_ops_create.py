"""``crm new`` (fields as options, and ``--edit``) and ``crm duplicate``: defaults,
ids, placement by the layout, and refusals before anything is written."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles.cli.main import main
from crmfiles.errors import CrmError
from crmfiles.ops import Refused, close, create, duplicate
from crmfiles.ops.fmt import format_text

TODAY = dt.date.today()
MONTH = f"{TODAY.year:04d}/{TODAY.month:02d}"


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def files_in(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--name-only", "--format=", rev).split()


def test_new_opportunity_with_defaults(repo: Path) -> None:
    result = create(
        repo,
        "opportunity",
        {"name": "Acme cranes", "partner": "acme", "kind": "standard-sale", "tags": ["priority"]},
    )
    path = f"opportunities/{MONTH}/acme-cranes.yaml"
    assert result.paths == [path] and result.created == [path] and result.id == "acme-cranes"
    text = (repo / path).read_text()
    assert text == (
        "# yaml-language-server: $schema=../../../.crm/schema/opportunity.schema.json\n"
        "id: acme-cranes\n"
        "name: Acme cranes\n"
        "kind: standard-sale\n"
        "stage: qualify\n"
        "status: in_progress\n"
        "partner: acme\n"
        "responsible: alice\n"
        "probability: 10\n"
        "currency: EUR\n"
        f"opened: {TODAY.isoformat()}\n"
        "tags:\n"
        "  - priority\n"
    )
    assert format_text(path, text) == text  # `crm fmt` has nothing to say about it
    assert files_in(repo) == [path]
    assert git(repo, "log", "-1", "--format=%B") == (
        f"crm: new opportunity acme-cranes\n\nCrm-Record: {path}\nCrm-Stage-To: qualify\n\n"
    )
    assert git(repo, "status", "--porcelain") == ""


def test_ids_are_made_unique_and_an_explicit_one_must_be_free(repo: Path) -> None:
    create(repo, "partner", {"name": "Acme"})
    assert (repo / "partners/acme-2.yaml").exists()  # partners are flat by default
    with pytest.raises(CrmError, match="partner 'rival' already exists"):
        create(repo, "partner", {"name": "Rival", "id": "rival"})
    with pytest.raises(CrmError, match="not a valid id"):
        create(repo, "partner", {"name": "X", "id": "Not/Valid"})


def test_new_records_of_every_type(repo: Path) -> None:
    create(repo, "contact", {"name": "Max Muster", "partner": "acme"})
    create(repo, "lead", {"name": "Cranes for Hamburg", "company": "Hafen AG"})
    create(repo, "interaction", {"type": "call", "partner": "acme", "subject": "Intro call"})
    create(repo, "task", {"title": "Call Jane", "subject": {"type": "contact", "id": "jane"}})
    assert (repo / "contacts/max-muster.yaml").exists()
    assert "status: new" in (repo / f"leads/{MONTH}/cranes-for-hamburg.yaml").read_text()
    assert (
        f"at: {TODAY.isoformat()}" in (repo / f"interactions/{MONTH}/intro-call.yaml").read_text()
    )
    assert "assignee: alice" in (repo / f"tasks/{MONTH}/call-jane.yaml").read_text()
    assert main(["validate"]) == 0
    assert len(git(repo, "log", "--format=%s").splitlines()) == 5


def test_an_unknown_partner_is_refused_with_nothing_written(repo: Path) -> None:
    before = head(repo)
    with pytest.raises(Refused) as refused:
        create(
            repo, "opportunity", {"name": "Ghost deal", "partner": "ghost", "kind": "custom-deal"}
        )
    assert [d.rule for d in refused.value.errors] == ["unknown-reference"]
    assert head(repo) == before
    assert not list((repo / "opportunities").rglob("ghost-deal.yaml"))


def test_a_name_already_taken_is_refused_whatever_the_path_order(repo: Path) -> None:
    # the new file sorts before the old one: the rule reports the old one, naming ours
    write(
        repo,
        {
            "opportunities/2099/12/zz.yaml": """\
        id: zz
        name: Zeta
        kind: standard-sale
        stage: qualify
        status: in_progress
        partner: acme
        responsible: alice
        probability: 10
        """
        },
    )
    commit_all(repo, "a late one")
    with pytest.raises(Refused) as refused:
        create(repo, "opportunity", {"name": "zeta", "partner": "acme", "kind": "custom-deal"})
    assert [d.rule for d in refused.value.errors] == ["duplicate-name"]


def test_which_kind_and_who_is_responsible(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CrmError, match="which kind"):
        create(repo, "opportunity", {"name": "X", "partner": "acme"})
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "stranger@example.com")
    with pytest.raises(CrmError, match="who is responsible"):
        create(repo, "opportunity", {"name": "X", "partner": "acme", "kind": "custom-deal"})


def test_cli_new(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "new", "opportunity", "--name", "Acme hoists", "--partner", "acme",
            "--kind", "custom-deal", "--amount", "1250.50", "--tag", "priority",
            "--contact", "jane", "--set", "insight.problem=Slow loading",
            "--expected-close", "2099-01-31", "--no-commit",
        ]
    )  # fmt: skip
    assert code == 0
    path = f"opportunities/{MONTH}/acme-hoists.yaml"
    assert capsys.readouterr().out == (
        f"created opportunity acme-hoists ({path}), not committed (--no-commit)\n"
    )
    text = (repo / path).read_text()
    assert "amount: 1250.5\n" in text
    assert "contacts:\n  - jane\n" in text
    assert "expected_close: 2099-01-31\n" in text
    assert "insight:\n  problem: Slow loading\n" in text
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == f"?? {path}\n"


def test_cli_new_rejects_fields_of_another_type(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "partner", "--name", "X", "--kind", "standard-sale"]) == 2
    assert "--kind is not a field of a partner" in capsys.readouterr().err
    assert main(["new", "opportunity", "--name", "X", "--probability", "high"]) == 2
    assert "--probability takes a number" in capsys.readouterr().err


def test_new_partners_and_contacts_are_dated_like_opportunities(repo: Path) -> None:
    create(repo, "partner", {"name": "Zeta Kran AG"})
    create(repo, "contact", {"name": "Eva Zeta", "partner": "zeta-kran-ag"})
    for path in ("partners/zeta-kran-ag.yaml", "contacts/eva-zeta.yaml"):
        assert f"opened: {TODAY.isoformat()}\n" in (repo / path).read_text()


def test_cli_new_partner_warns_of_a_near_duplicate_and_refuses_a_duplicate(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the fixture holds partner acme, "Acme GmbH": accents aside, the same name
    assert main(["new", "partner", "--name", "Acmé  GmbH"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("created partner acme-gmbh (partners/acme-gmbh.yaml)")
    assert "partners/acme-gmbh.yaml:3:7: warning: name 'Acmé  GmbH' is close to partner " in err
    assert "acme ('Acme GmbH') [duplicate-name]" in err
    assert 'name: "Acmé  GmbH"\n' in (repo / "partners/acme-gmbh.yaml").read_text()
    # equal once case and spacing are folded: the rule refuses it, nothing written
    assert main(["new", "partner", "--name", " ACME   gmbh", "--id", "zeta"]) == 1
    out, err = capsys.readouterr()
    assert "partners/zeta.yaml:3:7: error: name ' ACME   gmbh' is already used by " in out
    assert "partners/acme.yaml [duplicate-name]" in out
    assert err.startswith("crm: refused: crm new zeta breaks 1 rule; nothing was written")
    assert not (repo / "partners/zeta.yaml").exists()


def _editor(tmp_path: Path, script: str) -> str:
    """An editor that runs ``script`` (Python) on the file it is given."""
    program = tmp_path / "editor.py"
    program.write_text(
        "import sys, pathlib\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n" + script + "path.write_text(text)\n"
    )
    return f"{sys.executable} {program}"


def test_new_edit_saves_what_the_editor_wrote(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "GIT_EDITOR",
        _editor(tmp_path, "text = text.replace('- prospect', '- competitor')\n"),
    )
    assert main(["new", "partner", "--name", "Rival", "--id", "rival-2", "--edit"]) == 0
    text = (repo / "partners/rival-2.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../.crm/schema/partner.schema.json\nid: rival-2\n"
    )
    assert "# crm:" not in text
    assert "committed" in capsys.readouterr().out


def test_new_edit_refuses_an_invalid_record_when_not_interactive(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GIT_EDITOR", _editor(tmp_path, "text = text.replace('acme', 'nobody')\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    before = head(repo)
    code = main(["new", "contact", "--name", "Max", "--partner", "acme", "--edit"])
    assert code == 1
    out = capsys.readouterr().out
    assert "contacts/max.yaml:4:10: error: " in out and "[unknown-reference]" in out
    assert head(repo) == before and not (repo / "contacts/max.yaml").exists()


def test_duplicate(repo: Path) -> None:
    close(repo, "acme-forklifts", won=False, reason="price")
    result = duplicate(repo, "acme-forklifts")
    path = f"opportunities/{MONTH}/acme-forklifts-copy.yaml"
    assert result.paths == [path] and result.id == "acme-forklifts-copy"
    text = (repo / path).read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../../.crm/schema/opportunity.schema.json\n"
        "# a comment that must survive every edit\n"
        "id: acme-forklifts-copy\n"
        "name: Acme forklifts (copy)\n"
    )
    for line in (
        "stage: qualify\n",
        "status: in_progress\n",
        "probability: 10\n",
        f"opened: {TODAY.isoformat()}\n",
        "origin:\n  type: opportunity\n  id: acme-forklifts\n",
    ):
        assert line in text
    assert "closed" not in text and "loss_reason" not in text
    # an expected close in the past is not the copy's
    assert ("expected_close: 2026-06-30" in text) == (TODAY.isoformat() <= "2026-06-30")
    assert files_in(repo) == [path]
    again = duplicate(repo, "acme-forklifts")  # the name "(copy)" is taken: "(copy 2)"
    assert again.id == "acme-forklifts-copy-2"
    assert main(["validate"]) == 0


# --- records made from another -----------------------------------------------------------


def test_a_task_about_an_opportunity(repo: Path) -> None:
    assert main(["new", "task", "--opportunity", "acme-forklifts", "--title", "Send specs"]) == 0
    [path] = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    text = (repo / path).read_text()
    assert "subject:\n  type: opportunity\n  id: acme-forklifts\n" in text
    assert "assignee: alice" in text  # the opportunity's responsible person


def test_an_interaction_about_an_opportunity_takes_its_partner_and_contacts(repo: Path) -> None:
    opp = "opportunities/2026/01/acme-forklifts.yaml"
    text = (repo / opp).read_text().replace("partner: acme\n", "partner: acme\ncontacts: [jane]\n")
    write(repo, {opp: text})
    commit_all(repo, "jane is the contact")
    args = ["new", "interaction", "--opportunity", "acme-forklifts", "--type", "call"]
    assert main([*args, "--summary", "Asked for specs"]) == 0
    [path] = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    text = (repo / path).read_text()
    assert "partner: acme" in text and "- jane" in text
    assert "opportunity: acme-forklifts" in text
    assert main(["validate"]) == 0


def test_an_opportunity_from_an_interaction(repo: Path) -> None:
    write(
        repo,
        {
            "interactions/2026/02/acme-call.yaml": "id: acme-call\ntype: call\nat: 2026-02-01\n"
            "partner: acme\ncontacts: [jane]\nsubject: Racking for the new hall\n"
        },
    )
    commit_all(repo, "a call")
    args = ["new", "opportunity", "--from-interaction", "acme-call", "--kind", "standard-sale"]
    assert main(args) == 0
    [path] = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    text = (repo / path).read_text()
    assert "name: Racking for the new hall" in text
    assert "partner: acme" in text and "- jane" in text
    assert "origin:\n  type: interaction\n  id: acme-call\n" in text


def test_from_interaction_is_for_opportunities(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "task", "--from-interaction", "x", "--title", "t"]) == 2
    assert "--from-interaction makes an opportunity" in capsys.readouterr().err
