"""The TUI's edit form: ``update`` (only the lines that change; refused when the file
changed on disk since it was loaded) and ``check_edit`` (diagnostics as you type);
and the text edits under them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE_FILES, dedent, git

from crmfiles.ops import DELETE, Refused, Stale, check_edit, close, content_hash, update
from crmfiles.ops.yamltext import set_values

OPP = "opportunities/2026/01/acme-forklifts.yaml"
BASE = dedent(BASE_FILES[OPP])


def changed_lines(root: Path) -> list[str]:
    out = git(root, "show", "--format=", "--unified=0", "HEAD", "--", OPP)
    return [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_update_changes_only_its_lines(repo: Path) -> None:
    loaded = content_hash((repo / OPP).read_bytes())
    result = update(
        repo,
        "acme-forklifts",
        {"amount": 32000, "team": ["bob"], "next_milestone": "Demo: 3 May"},
        expected_hash=loaded,
    )
    assert changed_lines(repo) == [
        "-amount: 30000",
        "+amount: 32000",
        "+team:",
        "+  - bob",
        '+next_milestone: "Demo: 3 May"',
    ]
    assert git(repo, "log", "-1", "--format=%s").strip() == (
        "crm: edit acme-forklifts (amount, team, next_milestone)"
    )
    assert result.paths == [OPP]


def test_update_by_path_and_a_hand_made_stage_change(repo: Path) -> None:
    update(repo, OPP, {"stage": "proposal", "probability": 35})
    message = git(repo, "log", "-1", "--format=%B")
    assert "Crm-Stage-From: qualify\nCrm-Stage-To: proposal\n" in message
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [OPP]  # no tasks


def test_a_file_changed_since_it_was_loaded_is_not_overwritten(repo: Path) -> None:
    loaded = content_hash((repo / OPP).read_bytes())
    (repo / OPP).write_text(BASE.replace("amount: 30000", "amount: 99999"))
    with pytest.raises(Stale):
        update(repo, "acme-forklifts", {"amount": 32000}, expected_hash=loaded, commit=False)
    assert "amount: 99999" in (repo / OPP).read_text()


def test_update_is_refused_by_the_rules(repo: Path) -> None:
    close(repo, "acme-forklifts", won=False, reason="price")
    with pytest.raises(Refused) as refused:
        update(repo, "acme-forklifts", {"amount": 1})
    assert [d.rule for d in refused.value.errors] == ["closed-modified"]


def test_nothing_to_change(repo: Path) -> None:
    result = update(repo, "acme-forklifts", {"amount": 30000})
    assert result.commit is None and result.paths == []


def test_check_edit_as_you_type(repo: Path) -> None:
    assert check_edit(repo, OPP, BASE) == []
    typed = BASE.replace("stage: qualify", "stage: commit").replace("partner: acme", "partner: ac")
    found = check_edit(repo, OPP, typed)
    assert [(d.rule, d.line) for d in found] == [("stage-skip", 5), ("unknown-reference", 7)]
    assert (repo / OPP).read_text() == BASE  # nothing written


def test_set_values_keeps_the_file_as_written() -> None:
    text = (
        "# top\n"
        "id: x\n"
        "tags: [a, b]\n"
        "origin:\n"
        "  type: lead\n"
        "  id: l\n"
        "\n"
        "# about the team\n"
        "team:\n"
        "  - alice\n"
        "name: 'quoted'\n"
    )
    assert set_values(text, {"tags": ["c"], "origin": DELETE, "team": ["bob", "mia"]}) == (
        "# top\nid: x\ntags: [c]\n\n# about the team\nteam:\n  - bob\n  - mia\nname: 'quoted'\n"
    )
    assert set_values(text, {"origin": {"type": "opportunity", "id": "y"}, "contacts": ["j"]}) == (
        text.replace("type: lead\n  id: l", "type: opportunity\n  id: y") + "contacts:\n  - j\n"
    )
