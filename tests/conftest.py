"""Fixtures that build real CRM repositories in real git repositories."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmfiles.check import check
from crmfiles.diagnostics import Diagnostic
from crmfiles.records.worktree import WorkTree

BASE_FILES: dict[str, str] = {
    "crm.yaml": """\
        version: 1
        name: Test Co
        currency: EUR
        """,
    "catalogs/stages.yaml": """\
        - id: qualify
          name: Qualify
          probability: 10
        - id: proposal
          name: Proposal
          probability: 40
          requires: [amount]
        - id: negotiate
          name: Negotiate
          probability: 70
          requires: [expected_close]
        - id: commit
          name: Commit
          probability: 90
        """,
    "catalogs/kinds.yaml": """\
        - id: standard-sale
          name: Standard sale
          type: standard
          allowed: true
          record_primary_demand: false
          stages: [qualify, proposal, negotiate, commit]
        - id: custom-deal
          name: Custom deal
          type: custom
          allowed: true
          stages: [qualify, negotiate]
        - id: hours
          name: Consulting hours
          type: stageless
          allowed: true
        - id: old-rental
          name: Old rental
          type: standard
          allowed: false
          stages: [qualify, commit]
        """,
    "catalogs/loss-reasons.yaml": """\
        - id: price
          name: Price too high
        - id: no-budget
          name: No budget
        """,
    "catalogs/channels.yaml": """\
        - id: referral
          name: Referral by a partner
          impact: partner
        - id: event
          name: Event
          impact: campaign
        - id: colleague
          name: Colleague
          impact: person
        - id: contact-referral
          name: Contact's recommendation
          impact: contact
        - id: web
          name: Web search
          impact: none
        """,
    "catalogs/campaigns.yaml": """\
        - id: spring-fair
          name: Spring fair
          channel: event
        """,
    "catalogs/products.yaml": """\
        - id: forklift
          name: Forklift
          unit: piece
          price: 15000
          currency: EUR
        - id: usd-widget
          name: Widget
          unit: piece
          price: 10
          currency: USD
        """,
    "catalogs/terms.yaml": """\
        - id: net30
          name: Net 30
        """,
    "catalogs/tags.yaml": """\
        - id: priority
          name: Priority
        """,
    # the classification catalogs `crm init` writes (a repository without one is
    # checked in full on every run, as for any missing catalog)
    "catalogs/establishments.yaml": "- id: hq\n  name: Head office\n",
    "catalogs/sectors.yaml": "- id: industry\n  name: Industry\n",
    "catalogs/families.yaml": "- id: trucks\n  name: Trucks\n",
    "catalogs/sub-families.yaml": "- id: electric\n  name: Electric\n  family: trucks\n",
    "catalogs/people.yaml": """\
        - id: alice
          name: Alice Martin
          emails: [alice@example.com]
          roles: [sales]
        - id: bob
          name: Bob Stone
          emails: [bob@example.com]
          roles: [sales]
        - id: mia
          name: Mia Chef
          emails: [mia@example.com]
          roles: [manager]
        """,
    "catalogs/currencies.yaml": """\
        - id: EUR
          name: Euro
          rate: 1
          rate_date: 2026-01-01
        - id: USD
          name: US dollar
          rate: 0.9
          rate_date: 2026-01-01
        """,
    "partners/acme.yaml": """\
        id: acme
        name: Acme GmbH
        roles: [customer]
        """,
    "partners/rival.yaml": """\
        id: rival
        name: Rival Ltd
        roles: [competitor]
        """,
    "contacts/jane.yaml": """\
        id: jane
        name: Jane Doe
        partner: acme
        """,
    "opportunities/2026/01/acme-forklifts.yaml": """\
        # a comment that must survive every edit
        id: acme-forklifts
        name: Acme forklifts
        kind: standard-sale
        stage: qualify
        status: in_progress
        partner: acme
        responsible: alice
        probability: 10
        amount: 30000
        currency: EUR
        opened: 2026-01-10
        expected_close: 2026-06-30
        """,
}


def found(root: Path) -> list[Diagnostic]:
    """Every diagnostic `crm validate` gives the work tree of ``root``."""
    return check(WorkTree(root)).diagnostics


def only(root: Path) -> Diagnostic:
    """The one diagnostic of the work tree (fails when there are more or none)."""
    (diagnostic,) = found(root)
    return diagnostic


def dedent(text: str) -> str:
    return textwrap.dedent(text)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def write(root: Path, files: dict[str, str | bytes | None]) -> None:
    for path, content in files.items():
        full = root / path
        if content is None:
            full.unlink()
            continue
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            full.write_bytes(content)
        else:
            full.write_text(dedent(content), encoding="utf-8")


def commit_all(root: Path, message: str = "change", author: str = "alice@example.com") -> str:
    git(root, "add", "-A")
    name = author.split("@")[0].capitalize()
    # the identity goes in the environment: the autouse fixture's GIT_AUTHOR_* would
    # override `-c user.email`
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": author,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": author,
    }
    subprocess.run(
        ["git", "commit", "-q", "-m", message, "--allow-empty"],
        cwd=root,
        check=True,
        capture_output=True,
        env=env,
    )
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Real git, isolated from the developer's config."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Alice")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "alice@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Alice")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "alice@example.com")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A valid CRM repository with one commit."""
    root = tmp_path / "crm"
    root.mkdir()
    git(root, "init", "-q")
    write(root, dict(BASE_FILES))
    commit_all(root, "initial")
    old = Path.cwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(old)
