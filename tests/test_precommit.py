"""pre-commit end to end: a repository from ``crm init``, its own
.pre-commit-config.yaml installed with the real ``pre-commit``, and real ``git commit``s
that the ``crm lint --staged`` hook refuses or lets through. No network: the hooks are
``repo: local``, ``language: system`` and run the ``crm`` of this environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

BIN = Path(sys.executable).parent  # the environment whose `crm` the hooks run
OPPORTUNITY = "opportunities/2026/03/acme-forklifts.yaml"

# what a new user adds first: a product and a campaign (the catalogs start empty), a
# customer, a contact and a deal; as `crm fmt` writes them, so the fmt hook passes
FIRST_DEAL = {
    "catalogs/products.yaml": """\
# yaml-language-server: $schema=../.crm/schema/products.schema.json
- id: forklift
  name: Forklift
  unit: piece
  price: 15000
  currency: EUR
""",
    "catalogs/campaigns.yaml": """\
# yaml-language-server: $schema=../.crm/schema/campaigns.schema.json
- id: logimat-2026
  name: LogiMAT 2026
  channel: campaign
""",
    "partners/acme.yaml": """\
# yaml-language-server: $schema=../.crm/schema/partner.schema.json
id: acme
name: Acme GmbH
roles: [customer]
""",
    "contacts/jane.yaml": """\
# yaml-language-server: $schema=../.crm/schema/contact.schema.json
id: jane
name: Jane Doe
partner: acme
""",
    OPPORTUNITY: """\
# yaml-language-server: $schema=../../../.crm/schema/opportunity.schema.json
id: acme-forklifts
name: Acme forklifts
kind: standard-sale
stage: qualify
status: in_progress
partner: acme
contacts: [jane]
responsible: me
probability: 10
amount: 30000
lines:
  - product: forklift
    quantity: 2
    unit_price: 15000
expected_close: 2026-06-30
""",
}


class Shell:
    """Commands in the repository, with this environment's ``crm`` first on PATH."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GIT_", "PRE_COMMIT"))
        }
        self.env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PRE_COMMIT_HOME=str(home / "pre-commit"),
            GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Your Name",
            GIT_AUTHOR_EMAIL="you@example.com",
            GIT_COMMITTER_NAME="Your Name",
            GIT_COMMITTER_EMAIL="you@example.com",
            NO_COLOR="1",
        )

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=cwd or self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # git and its hooks write to either
            text=True,
            timeout=120,
        )

    def ok(self, *args: str) -> str:
        proc = self(*args)
        assert proc.returncode == 0, proc.stdout
        return proc.stdout

    def write(self, path: str, text: str) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(text, encoding="utf-8")

    def move(self, stage: str) -> None:
        text = (self.root / OPPORTUNITY).read_text("utf-8")
        current = next(line for line in text.splitlines() if line.startswith("stage: "))
        self.write(OPPORTUNITY, text.replace(current, f"stage: {stage}"))


def make(tmp: Path) -> Shell:
    sh = Shell(tmp / "crm", tmp)
    init = sh("crm", "init", str(sh.root), cwd=tmp)
    assert init.returncode == 0, init.stdout
    assert "Made a CRM repository" in init.stdout
    config = (sh.root / ".pre-commit-config.yaml").read_text("utf-8")
    assert "entry: crm lint --staged" in config and "repo: local" in config
    assert "pre-commit installed" in sh.ok(sys.executable, "-m", "pre_commit", "install")
    return sh


@pytest.fixture(scope="module")
def crm_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    """`crm init`, the hooks installed, and the first deal committed through them."""
    sh = make(tmp_path_factory.mktemp("precommit"))
    for path, text in FIRST_DEAL.items():
        sh.write(path, text)
    sh.ok("git", "add", "-A")
    proc = sh("git", "commit", "-m", "Acme forklifts")
    assert proc.returncode == 0, proc.stdout
    assert "crm lint (staged changes)" in proc.stdout
    yield sh


def test_a_stage_skip_is_refused(crm_repo: Shell) -> None:
    sh = crm_repo
    head = sh.ok("git", "rev-parse", "HEAD")
    sh.move("proposal")
    sh.ok("git", "add", OPPORTUNITY)
    try:
        proc = sh("git", "commit", "-m", "straight to proposal")
        assert proc.returncode != 0
        output = proc.stdout
        assert "crm lint (staged changes)" in output and "Failed" in output
        assert (
            f"{OPPORTUNITY}:5:8: error: stage moved from 'qualify' to 'proposal', "
            "skipping 'needs-analysis' [stage-skip]"
        ) in output
        assert sh.ok("git", "rev-parse", "HEAD") == head
    finally:
        sh.ok("git", "reset", "-q", "--hard", "HEAD")


def test_a_skip_in_the_work_tree_only_does_not_block_a_good_commit(crm_repo: Shell) -> None:
    """The hook checks what `git commit` records: the index, not the work tree."""
    sh = crm_repo
    sh.write(
        "partners/globex.yaml",
        FIRST_DEAL["partners/acme.yaml"].replace("acme", "globex").replace("Acme GmbH", "Globex"),
    )
    sh.ok("git", "add", "partners/globex.yaml")
    sh.move("commitment")  # not staged
    try:
        proc = sh("git", "commit", "-m", "Globex")
        assert proc.returncode == 0, proc.stdout
    finally:
        sh.ok("git", "checkout", "--", OPPORTUNITY)


def test_the_next_stage_is_accepted(crm_repo: Shell) -> None:
    sh = crm_repo
    sh.move("needs-analysis")
    sh.ok("git", "add", OPPORTUNITY)
    proc = sh("git", "commit", "-m", "crm: move acme-forklifts qualify -> needs-analysis")
    assert proc.returncode == 0, proc.stdout
    assert "crm lint (staged changes)" in proc.stdout and "Passed" in proc.stdout
    assert sh.ok("git", "log", "-1", "--format=%s").startswith("crm: move acme-forklifts")
    assert sh.ok("git", "status", "--porcelain") == ""


def test_a_first_commit_in_a_fresh_repository_passes_the_hooks(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sh = make(tmp_path_factory.mktemp("fresh"))
    sh.write("partners/acme.yaml", FIRST_DEAL["partners/acme.yaml"])
    sh.ok("git", "add", "-A")
    proc = sh("git", "commit", "-m", "first customer")
    assert proc.returncode == 0, proc.stdout
