"""Every ``--format json`` output is one object with a top-level ``"version"``, and
docs/json.md describes each command that has one.

The list of commands is read from the parser itself, so a new command with a JSON
format fails here until it is run below and documented.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from conftest import commit_all, write

from crmfiles.cli.main import build_parser, main
from crmfiles.cli.reports import REPORTS

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json.md"

LEAD = """\
    id: hafen-cranes
    name: Cranes for the port
    status: new
    company: Hafen Logistik AG
    contact_name: Jörg Meyer
    channel: web
    responsible: bob
    created: 2026-03-02
    """
LOST = """\
    id: lost-deal
    name: Lost deal
    kind: hours
    status: lost
    loss_reason: price
    partner: acme
    responsible: alice
    probability: 0
    opened: 2026-01-10
    closed_on: 2026-02-10
    """
CALL = """\
    id: 2026-02-01-acme-call
    type: call
    at: 2026-02-01
    partner: acme
    summary: They want two forklifts.
    """

# every command with a JSON format -> the command lines that exercise it
RUNS: dict[str, list[list[str]]] = {
    "validate": [["validate"]],
    "lint": [["lint", "--base", "HEAD~1"]],
    "rules": [["rules"]],
    "list": [["list", "opportunities"], ["list", "tasks"], ["list", "interactions"]],
    "show": [["show", "acme-forklifts"], ["show", "2026-02-01-acme-call"]],
    "changes": [["changes", "--base", "HEAD~1"]],
    "blame": [["blame", "acme-forklifts"], ["blame", "contacts/jane"]],
    "history": [["history"], ["history", "acme-forklifts"], ["history", "-n", "1"]],
    "report": [
        *(["report", name] for name in REPORTS),
        ["report", "forecast", "--compare", "HEAD~1"],
    ],
    "new": [["new", "partner", "--name", "Beta AG", "--role", "customer"]],
    "move": [
        ["move", "acme-forklifts", "proposal"],
        ["move", "acme-forklifts", "commit"],  # refused: skips stages (exit 1)
    ],
    "close": [["close", "acme-forklifts", "--lost", "--reason", "price"]],
    "reopen": [["reopen", "lost-deal"]],
    "duplicate": [["duplicate", "acme-forklifts"]],
    "qualify": [["qualify", "hafen-cranes", "--kind", "standard-sale"]],
    "disqualify": [["disqualify", "hafen-cranes", "--reason", "no-budget"]],
    "merge": [["merge", "partner", "acme", "rival"]],
    "whoami": [["whoami"]],
    "tasks": [["tasks"], ["tasks", "--all", "--overdue"]],
    "set": [["set", "acme-forklifts", "next_milestone=Demo"], ["set", "acme-forklifts", "x.y=1"]],
    "edit": [["edit", "acme-forklifts"]],
}


def json_commands() -> set[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name
        for name, command in sub.choices.items()
        for action in command._actions
        if "--format" in action.option_strings and "json" in (action.choices or ())
    }


def test_every_command_with_json_is_run_here() -> None:
    assert json_commands() == set(RUNS)


@pytest.mark.parametrize("words", [words for runs in RUNS.values() for words in runs], ids=" ".join)
def test_json_is_an_object_with_a_version(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_EDITOR", "true")  # crm edit: the editor quits at once
    write(
        repo,
        {
            "leads/2026/03/hafen-cranes.yaml": LEAD,
            "interactions/2026/02/2026-02-01-acme-call.yaml": CALL,
            "opportunities/2026/01/lost-deal.yaml": LOST,
        },
    )
    commit_all(repo, "a lead, a call and a lost deal")
    capsys.readouterr()
    code = main([*words, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    payload = json.loads(out)
    assert isinstance(payload, dict)
    assert payload["version"] == 1


def test_show_keeps_the_records_own_fields_apart(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An interaction has a `type` field of its own: it is not the record's type."""
    write(repo, {"interactions/2026/02/2026-02-01-acme-call.yaml": CALL})
    assert main(["show", "2026-02-01-acme-call", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["type"] == "interactions"
    assert payload["path"] == "interactions/2026/02/2026-02-01-acme-call.yaml"
    assert payload["record"]["type"] == "call"
    assert payload["record"]["at"] == "2026-02-01"


def test_rules_is_an_object_with_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from crmfiles.rules.registry import RULES

    assert main(["rules", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in payload["rules"]] == list(RULES)


def test_docs_describe_every_json_shape() -> None:
    text = DOCS.read_text("utf-8")
    headings = re.findall(r"^##+ (.*)$", text, re.MULTILINE)
    documented = {name for line in headings for name in re.findall(r"`crm ([a-z]+)", line)}
    assert json_commands() <= documented
