"""What lint lets through when duplicates are merged (``crm merge``): the dropped record
may go when the one kept lists it in ``merged_from`` and nothing refers to it any more;
a closed record may have its reference renamed to the one kept, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commit_all, write

from crmfiles.lint import lint

CLOSED = """\
id: old-deal
name: Old deal
kind: hours
status: won
closed: true
closed_on: 2026-02-01
partner: acme-dup
responsible: alice
probability: 100
opened: 2026-01-10
"""


@pytest.fixture
def duplicates(repo: Path) -> Path:
    write(
        repo,
        {
            "partners/acme-dup.yaml": "id: acme-dup\nname: ACME Gmbh\nroles: [customer]\n"
            "phone: '+49 40 1234'\n",
            "opportunities/2026/01/old-deal.yaml": CLOSED,
        },
    )
    commit_all(repo, "a duplicate, and a closed deal with it")
    return repo


def findings(root: Path) -> list[str]:
    report = lint(root, base="HEAD").report  # the work tree against HEAD
    return sorted(f"{d.path}: {d.rule}" for d in report.diagnostics if d.severity == "error")


def test_a_merge_lets_the_duplicate_go_and_renames_references(duplicates: Path) -> None:
    write(
        duplicates,
        {
            "partners/acme-dup.yaml": None,
            "partners/acme.yaml": "id: acme\nname: Acme GmbH\nroles: [customer]\n"
            "phone: '+49 40 1234'\nmerged_from: [acme-dup]\n",
            "opportunities/2026/01/old-deal.yaml": CLOSED.replace("acme-dup", "acme"),
        },
    )
    assert findings(duplicates) == []


def test_deleting_without_a_merge_is_still_record_deleted(duplicates: Path) -> None:
    write(
        duplicates,
        {
            "partners/acme-dup.yaml": None,
            "opportunities/2026/01/old-deal.yaml": CLOSED.replace("acme-dup", "acme"),
        },
    )
    assert findings(duplicates) == [
        "opportunities/2026/01/old-deal.yaml: closed-modified",
        "partners/acme-dup.yaml: record-deleted",
    ]


def test_a_reference_left_behind_is_unknown(duplicates: Path) -> None:
    write(
        duplicates,
        {
            "partners/acme-dup.yaml": None,
            "partners/acme.yaml": "id: acme\nname: Acme GmbH\nroles: [customer]\n"
            "merged_from: [acme-dup]\n",
        },
    )
    assert findings(duplicates) == ["opportunities/2026/01/old-deal.yaml: unknown-reference"]


def test_a_closed_record_may_only_have_the_reference_renamed(duplicates: Path) -> None:
    write(
        duplicates,
        {
            "partners/acme-dup.yaml": None,
            "partners/acme.yaml": "id: acme\nname: Acme GmbH\nroles: [customer]\n"
            "merged_from: [acme-dup]\n",
            "opportunities/2026/01/old-deal.yaml": CLOSED.replace("acme-dup", "acme").replace(
                "name: Old deal", "name: Old deal, renamed"
            ),
        },
    )
    assert findings(duplicates) == ["opportunities/2026/01/old-deal.yaml: closed-modified"]
