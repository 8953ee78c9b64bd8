"""``crm qualify`` and ``crm disqualify``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import commit_all, git, write

from crmfiles.cli.main import main
from crmfiles.errors import CrmError
from crmfiles.ops import disqualify, qualify

TODAY = dt.date.today()
MONTH = f"{TODAY.year:04d}/{TODAY.month:02d}"
LEAD = "leads/2026/03/hafen-cranes.yaml"


@pytest.fixture
def lead(repo: Path) -> Path:
    write(
        repo,
        {
            LEAD: """\
                # from the web form
                id: hafen-cranes
                name: Cranes for the port
                status: new
                company: Hafen Logistik AG
                contact_name: Jörg Meyer
                email: jm@hafen.example
                country: DE
                channel: web
                responsible: bob
                created: 2026-03-02
                tags: [priority]
                """
        },
    )
    commit_all(repo, "a lead")
    return repo


def test_qualify_makes_three_records_and_marks_the_lead(lead: Path) -> None:
    before = git(lead, "rev-parse", "HEAD").strip()
    result = qualify(lead, "hafen-cranes", kind="standard-sale")
    partner = "partners/hafen-logistik-ag.yaml"
    contact = "contacts/jorg-meyer.yaml"
    opportunity = f"opportunities/{MONTH}/cranes-for-the-port.yaml"
    assert sorted(git(lead, "show", "--name-only", "--format=", "HEAD").split()) == sorted(
        [LEAD, partner, contact, opportunity]
    )
    assert git(lead, "log", "-1", "--format=%P").strip() == before
    assert result.created == sorted([partner, contact, opportunity])
    assert (
        (lead / LEAD)
        .read_text()
        .endswith(
            "created: 2026-03-02\n"
            "tags: [priority]\n"
            "qualified:\n"
            "  partner: hafen-logistik-ag\n"
            "  contact: jorg-meyer\n"
            "  opportunity: cranes-for-the-port\n"
        )
    )
    assert "status: qualified\n" in (lead / LEAD).read_text()
    assert "# from the web form\n" in (lead / LEAD).read_text()
    text = (lead / opportunity).read_text()
    for line in (
        "name: Cranes for the port\n",
        "stage: qualify\n",
        "partner: hafen-logistik-ag\n",
        "contacts:\n  - jorg-meyer\n",
        "responsible: bob\n",
        "channel: web\n",
        "origin:\n  type: lead\n  id: hafen-cranes\n",
    ):
        assert line in text
    contact_text = (lead / contact).read_text()
    assert "name: Jörg Meyer\n" in contact_text or 'name: "Jörg Meyer"\n' in contact_text
    assert "email: jm@hafen.example\n" in contact_text
    message = git(lead, "log", "-1", "--format=%B")
    assert message.startswith("crm: qualify hafen-cranes -> cranes-for-the-port\n\n")
    assert f"Crm-Record: {LEAD}\n" in message and "Crm-Status: qualified\n" in message
    assert main(["validate"]) == 0
    with pytest.raises(CrmError, match="already qualified"):
        qualify(lead, "hafen-cranes", kind="standard-sale")


def test_qualify_with_an_existing_partner(lead: Path) -> None:
    with pytest.raises(CrmError, match="no partner with id 'nobody'"):
        qualify(lead, "hafen-cranes", partner="nobody")
    result = qualify(lead, "hafen-cranes", partner="acme", kind="custom-deal")
    assert not any(p.startswith("partners/") for p in result.paths)
    assert "  partner: acme\n" in (lead / LEAD).read_text()


def test_disqualify(lead: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["disqualify", "hafen-cranes", "--reason", "no-budget"]) == 0
    text = (lead / LEAD).read_text()
    assert "status: disqualified\n" in text and "disqualify_reason: no-budget\n" in text
    assert capsys.readouterr().out.startswith("disqualified lead hafen-cranes (no-budget)")
    assert git(lead, "log", "-1", "--format=%s").strip() == (
        "crm: disqualify hafen-cranes (no-budget)"
    )
    assert main(["disqualify", "hafen-cranes", "--reason", "price"]) == 2


def test_disqualify_needs_a_known_reason(lead: Path) -> None:
    with pytest.raises(CrmError, match="unknown reason 'bored'"):
        disqualify(lead, "hafen-cranes", reason="bored")


def _kind_of_new_opportunity(root: Path) -> str:
    [path] = [p for p in root.glob("opportunities/**/*.yaml") if "acme-forklifts" not in p.name]
    return next(line for line in path.read_text().splitlines() if line.startswith("kind:"))


def test_qualify_asks_for_a_kind_only_when_nothing_says(lead: Path) -> None:
    with pytest.raises(CrmError) as raised:
        qualify(lead, "hafen-cranes")
    assert raised.value.message == "which kind of opportunity?"
    assert "defaults.kind in crm.yaml" in (raised.value.hint or "")


def test_qualify_takes_the_kind_of_the_lead(lead: Path) -> None:
    text = (lead / LEAD).read_text()
    write(lead, {LEAD: text + "kind: custom-deal\n"})
    commit_all(lead, "the lead says what it is")
    qualify(lead, "hafen-cranes")
    assert _kind_of_new_opportunity(lead) == "kind: custom-deal"


def test_qualify_falls_back_to_crm_yaml_defaults(lead: Path) -> None:
    with (lead / "crm.yaml").open("a") as handle:
        handle.write("defaults:\n  kind: standard-sale\n")
    commit_all(lead, "a default kind")
    qualify(lead, "hafen-cranes")
    assert _kind_of_new_opportunity(lead) == "kind: standard-sale"
    assert main(["validate"]) == 0


def test_a_default_kind_that_is_not_a_kind_is_a_validate_error(repo: Path) -> None:
    with (repo / "crm.yaml").open("a") as handle:
        handle.write("defaults:\n  kind: no-such-kind\n")
    assert main(["validate"]) == 1
