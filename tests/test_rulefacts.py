"""The facts the rules across records use, defined once: the row the warm cache keeps
gives back what the rules read of the record, and a restored record's facts are those."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import commit_all, write

from crmfiles.cachework import save
from crmfiles.check import load
from crmfiles.records.worktree import WorkTree
from crmfiles.rulefacts import facts_of, kept, rule_facts


@pytest.mark.parametrize(
    ("folder", "data", "expected"),
    [
        (
            "opportunities",
            {"name": "Acme  Forklifts", "currency": "EUR", "partner": "acme"},
            {"name_key": "acme forklifts", "currency": "EUR"},
        ),
        (
            "partners",
            {"name": "Acme GmbH", "roles": ["customer"], "currency": "USD"},
            {"name_key": "acme gmbh", "currency": "USD", "roles": ["customer"]},
        ),
        (
            "quotes",
            {"opportunity": "deal", "currency": "EUR"},
            {"currency": "EUR", "opportunity": "deal"},
        ),
        ("orders", {"quote": "q-1"}, {"quote": "q-1"}),
        ("invoices", {"order": 5, "currency": 7}, None),  # not strings: nothing kept
        ("contacts", {"name": "Jane Doe"}, None),  # a contact's name is no rule's
        ("partners", {"name": "Solo", "roles": "customer"}, {"name_key": "solo"}),
    ],
)
def test_the_kept_row_gives_back_the_facts_the_rules_read(
    folder: str, data: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert facts_of(folder, kept(folder, rule_facts(data))) == expected


def test_a_restored_record_has_the_facts_its_row_keeps(repo: Path) -> None:
    write(
        repo,
        {
            "quotes/q-2026-0001.yaml": """\
                id: q-2026-0001
                opportunity: acme-forklifts
                partner: acme
                status: draft
                currency: EUR
                date: 2026-01-12
                lines: []
                """,
        },
    )
    commit_all(repo, "a quote")
    cold = load(WorkTree(repo))  # parses every file, and writes the cache
    save(cold)
    warm = load(WorkTree(repo))
    assert warm.restored and not warm.recheck_all
    paths = [
        "partners/acme.yaml",
        "opportunities/2026/01/acme-forklifts.yaml",
        "quotes/q-2026-0001.yaml",
    ]
    for path in paths:
        fresh = cold.by_path(path)
        restored = warm.file(path)
        assert fresh is not None and restored is not None and not restored.fresh
        folder = path.split("/", 1)[0]
        assert restored.facts == facts_of(folder, kept(folder, fresh.facts))
        assert restored.facts is not None
