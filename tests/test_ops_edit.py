"""The TUI's edit form: ``update`` (only the lines that change; refused when the file
changed on disk since it was loaded) and ``check_edit`` (diagnostics as you type);
and the text edits under them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE_FILES, dedent, git

from crmfiles.ops import DELETE, Refused, Stale, check_edit, close, content_hash, update
from crmfiles.ops.yamltext import _set_on_lines, set_values
from crmfiles.records.edit import set_fields

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


EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"
SCALAR_CHANGES = [
    {"stage": "negotiate", "probability": 65},
    {"status": "lost", "loss_reason": "price", "probability": 0},
    {"name": "Ölwerk Süd: a name that needs quotes #1", "amount": 12.5},
    {"closed": True, "responsible": None},
]


@pytest.mark.parametrize("changes", SCALAR_CHANGES, ids=["move", "close", "quoted", "bool-null"])
@pytest.mark.parametrize(
    "path",
    sorted((EXAMPLE / "opportunities").rglob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_scalar_changes_made_on_lines_are_the_ones_composing_makes(
    path: Path, changes: dict[str, object]
) -> None:
    """A move's edit skips composing the record (``_set_on_lines``): the text is the
    one the composed edit writes, whichever fields the record has."""
    text = path.read_text("utf-8")
    assert set_values(text, changes) == set_fields(text, changes)
    if set(changes) == {"stage", "probability"} and all(f"\n{k}: " in text for k in changes):
        assert _set_on_lines(text, changes) is not None  # the way a move goes


@pytest.mark.parametrize(
    "text",
    [
        "id: x\nstage: qualify\nnotes: one\n  two\n",  # a plain scalar on two lines
        "id: x\nstage: 'qualify'  # quoted\n",
        "id: x\nstage: qualify # kept\nprobability: 10\n",
        "id: x\r\nstage: qualify\r\nprobability: 10\r\n",  # CRLF
        'id: x\nnotes: "one\nstage: two"\nstage: qualify\n',  # a key line inside a scalar
    ],
)
def test_scalar_changes_on_unusual_layouts(text: str) -> None:
    changes = {"stage": "proposal", "probability": 40}
    try:
        expected = set_fields(text, changes)
    except Exception:
        return
    assert set_values(text, changes) == expected
