"""``crm merge partner|contact KEEP DROP``: every reference to the duplicate renamed,
its fields carried over, its file removed, in one commit that lint lets through."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import commit_all, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.records import RECORD_FOLDERS
from crmfiles.schema import all_schemas
from crmfiles.schema_refs import ref_specs

DUP = "partners/acme-dup.yaml"
OLD = "opportunities/2026/01/old-deal.yaml"
OLD_TEXT = """\
    # won last year, closed
    id: old-deal
    name: Old deal
    kind: hours
    status: won
    closed: true
    closed_on: 2026-02-01
    partner: 'acme-dup'   # the customer
    responsible: alice
    probability: 100
    opened: 2026-01-10
    """
FILES = {
    DUP: """\
        id: acme-dup
        name: ACME Gmbh (old entry)
        roles: [customer, competitor]
        phone: '+49 40 1234'
        tags: [priority]
        """,
    OLD: OLD_TEXT,
    "opportunities/2026/02/new-deal.yaml": """\
        id: new-deal
        name: New deal
        kind: hours
        status: in_progress
        partner: acme-dup
        responsible: bob
        probability: 20
        opened: 2026-02-10
        competitors:
          - partner: rival
          - partner: acme-dup
            outcome: unknown
        """,
    "contacts/john.yaml": """\
        id: john
        name: John Roe
        partner: acme-dup  # moved from the old company
        """,
    "interactions/2026/02/2026-02-03-call.yaml": """\
        id: 2026-02-03-call
        type: call
        at: 2026-02-03
        partner: acme-dup
        contacts: [john, jane]
        summary: Called about the deal.
        """,
    "quotes/2026/01/q-1.yaml": """\
        id: q-1
        opportunity: old-deal
        revision: 1
        status: won
        date: 2026-01-20
        currency: EUR
        lines:
          - product: forklift
            quantity: 1
            unit_price: 15000
        """,
    "orders/ord-1.yaml": """\
        id: ord-1
        quote: q-1
        opportunity: old-deal
        partner: acme-dup
        date: 2026-02-01
        status: delivered
        currency: EUR
        """,
    "invoices/inv-1.yaml": """\
        id: inv-1
        order: ord-1
        partner: "acme-dup"
        date: 2026-02-05
        status: open
        amount: 15000
        currency: EUR
        """,
}


@pytest.fixture
def dups(repo: Path) -> Path:
    write(repo, FILES)
    commit_all(repo, "a duplicate of acme, used everywhere")
    return repo


def crm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args, "--repo", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def test_the_fixture_is_valid(dups: Path) -> None:
    result = crm(dups, "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_merge_rewrites_every_reference_and_removes_the_duplicate(dups: Path) -> None:
    before = head(dups)
    result = crm(dups, "merge", "partner", "acme", "acme-dup")
    assert result.returncode == 0, result.stderr
    assert "merged partner acme-dup into acme: 7 references in 6 records rewritten" in result.stdout
    assert git(dups, "rev-parse", "HEAD~1").strip() == before
    # one commit: the subject, the trailers, the files
    message = git(dups, "log", "-1", "--format=%B")
    assert message.startswith("crm: merge partner acme-dup -> acme\n")
    assert "Crm-Record: partners/acme.yaml\n" in message
    assert "Crm-Merged: acme-dup -> acme\n" in message
    changed = git(dups, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(line for line in changed if line) == sorted(
        [
            f"D\t{DUP}",
            "M\tpartners/acme.yaml",
            f"M\t{OLD}",
            "M\topportunities/2026/02/new-deal.yaml",
            "M\tcontacts/john.yaml",
            "M\tinteractions/2026/02/2026-02-03-call.yaml",
            "M\torders/ord-1.yaml",
            "M\tinvoices/inv-1.yaml",
        ]
    )
    assert not (dups / DUP).exists()
    assert git(dups, "status", "--porcelain") == ""
    # comments, quotes and layout stay: only the id changes
    assert (dups / OLD).read_text() == dedent(OLD_TEXT).replace("'acme-dup'", "'acme'")
    assert (dups / "contacts/john.yaml").read_text() == (
        "id: john\nname: John Roe\npartner: acme  # moved from the old company\n"
    )
    assert 'partner: "acme"\n' in (dups / "invoices/inv-1.yaml").read_text()
    deal = (dups / "opportunities/2026/02/new-deal.yaml").read_text()
    assert "partner: acme\n" in deal and "  - partner: rival\n  - partner: acme\n" in deal
    # the fields acme lacked, the roles' union, merged_from
    assert (dups / "partners/acme.yaml").read_text() == (
        "id: acme\nname: Acme GmbH\nroles: [customer, competitor]\n"
        "phone: +49 40 1234\ntags:\n  - priority\nmerged_from:\n  - acme-dup\n"
    )
    assert "acme-dup" not in git(dups, "grep", "-h", "partner", "HEAD", "--", ".")
    # lint judges the merge commit clean, and validate the result
    lint = crm(dups, "lint", "--base", "HEAD~1")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert crm(dups, "validate").returncode == 0


def test_json_names_the_removed_file(dups: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["merge", "partner", "acme", "acme-dup", "--format", "json", "--repo", str(dups)])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["ok"] is True
    assert payload["removed"] == [DUP]
    assert DUP in payload["paths"] and "partners/acme.yaml" in payload["paths"]


def test_a_later_deletion_without_a_merge_is_still_refused_by_lint(dups: Path) -> None:
    assert crm(dups, "merge", "partner", "acme", "acme-dup").returncode == 0
    git(dups, "rm", "-q", "partners/rival.yaml")
    write(
        dups,
        {
            "opportunities/2026/02/new-deal.yaml": (dups / "opportunities/2026/02/new-deal.yaml")
            .read_text()
            .replace("  - partner: rival\n", "")
        },
    )
    commit_all(dups, "rival gone")
    lint = crm(dups, "lint", "--base", "HEAD~1")
    assert lint.returncode == 1
    assert "record-deleted" in lint.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("acme", "acme"), "KEEP and DROP are the same partner 'acme'"),
        (("acme", "nobody"), "no record with id 'nobody' in partners/"),
        (("nobody", "acme-dup"), "no record with id 'nobody' in partners/"),
        (("acme", "jane"), "no record with id 'jane' in partners/"),
    ],
)
def test_bad_ids_are_refused_and_nothing_changes(
    dups: Path, args: tuple[str, str], says: str
) -> None:
    before = head(dups)
    result = crm(dups, "merge", "partner", *args)
    assert result.returncode == 2
    assert says in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert head(dups) == before and git(dups, "status", "--porcelain") == ""


@pytest.mark.parametrize("commit", [True, False])
def test_a_dirty_duplicate_is_refused(dups: Path, commit: bool) -> None:
    (dups / DUP).write_text((dups / DUP).read_text() + "comment: not committed\n")
    before = head(dups)
    result = crm(dups, "merge", "partner", "acme", "acme-dup", *([] if commit else ["--no-commit"]))
    assert result.returncode == 2
    assert f"{DUP} has uncommitted changes, and `crm merge` removes it" in result.stderr
    assert head(dups) == before and (dups / DUP).exists()
    assert git(dups, "status", "--porcelain") == f" M {DUP}\n"


def test_no_commit_leaves_the_work_tree_changed_and_nothing_staged(dups: Path) -> None:
    before = head(dups)
    result = crm(dups, "merge", "partner", "acme", "acme-dup", "--no-commit")
    assert result.returncode == 0, result.stderr
    assert "not committed" in result.stdout
    assert head(dups) == before
    status = git(dups, "status", "--porcelain").splitlines()
    assert f" D {DUP}" in status and " M partners/acme.yaml" in status
    assert all(line.startswith(" ") for line in status)  # nothing staged
    assert not (dups / DUP).exists()


def test_branch_leaves_the_work_tree_alone(dups: Path) -> None:
    before = head(dups)
    result = crm(dups, "merge", "partner", "acme", "acme-dup", "--branch")
    assert result.returncode == 0, result.stderr
    assert head(dups) == before and git(dups, "status", "--porcelain") == ""
    assert (dups / DUP).exists()
    assert git(dups, "log", "-1", "--format=%s", "crm/acme-merge") == (
        "crm: merge partner acme-dup -> acme\n"
    )
    files = git(dups, "ls-tree", "-r", "--name-only", "crm/acme-merge").split()
    assert DUP not in files and "partners/acme.yaml" in files
    lint = crm(dups, "lint", "--base", before, "--head", "crm/acme-merge")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_refusal_by_a_hook_puts_the_removed_file_back(dups: Path) -> None:
    hook = dups / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'not today' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = (head(dups), git(dups, "ls-files", "-s"), (dups / DUP).read_bytes())
    result = crm(dups, "merge", "partner", "acme", "acme-dup")
    assert result.returncode == 3, result.stdout + result.stderr
    assert (head(dups), git(dups, "ls-files", "-s"), (dups / DUP).read_bytes()) == before
    assert git(dups, "status", "--porcelain") == ""


def test_a_commit_with_hooks_removes_the_file(dups: Path) -> None:
    hook = dups / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    result = crm(dups, "merge", "partner", "acme", "acme-dup")
    assert result.returncode == 0, result.stderr
    assert DUP not in git(dups, "ls-files")
    assert f"D\t{DUP}" in git(dups, "show", "--name-status", "--format=", "HEAD")
    assert git(dups, "status", "--porcelain") == ""


def test_ctrl_c_before_the_commit_puts_the_removed_file_back(dups: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    before = (head(dups), git(dups, "ls-files", "-s"), (dups / DUP).read_bytes())
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmfiles", "merge", "partner", "acme", "acme-dup"],
        cwd=dups,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRM_TEST_PAUSE_AT": f"written:{fifo}"},
    )
    with open(fifo, "wb"):  # opened once crm waits at the phase
        assert not (dups / DUP).exists()  # removed by the write phase
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert (head(dups), git(dups, "ls-files", "-s"), (dups / DUP).read_bytes()) == before
    assert git(dups, "status", "--porcelain") == ""


def test_a_kill_after_the_removal_is_undone_by_the_next_command(dups: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmfiles", "merge", "partner", "acme", "acme-dup"],
        cwd=dups,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CRM_TEST_PAUSE_AT": f"written:{fifo}"},
    )
    with open(fifo, "wb"):
        proc.kill()
        proc.wait(timeout=60)
    assert not (dups / DUP).exists()
    after = crm(dups, "move", "acme-forklifts", "proposal")
    assert after.returncode == 0, after.stderr
    assert "undid `crm merge acme`" in after.stdout and DUP in after.stdout
    assert (dups / DUP).exists()
    assert git(dups, "status", "--porcelain") == ""


def test_contact_merge(dups: Path) -> None:
    write(
        dups,
        {
            "contacts/jane-doe.yaml": """\
                id: jane-doe
                name: Jane Doe
                partner: acme
                email: jane@acme.example
                position: Buyer
                """,
        },
    )
    commit_all(dups, "jane twice")
    result = crm(dups, "merge", "contact", "jane", "jane-doe")
    assert result.returncode == 0, result.stderr
    assert "Crm-Merged: jane-doe -> jane" in git(dups, "log", "-1", "--format=%B")
    assert (dups / "contacts/jane.yaml").read_text() == (
        "id: jane\nname: Jane Doe\npartner: acme\nemail: jane@acme.example\n"
        "position: Buyer\nmerged_from:\n  - jane-doe\n"
    )
    assert not (dups / "contacts/jane-doe.yaml").exists()
    assert crm(dups, "lint", "--base", "HEAD~1").returncode == 0


def test_other_values_of_the_duplicate_are_named(dups: Path) -> None:
    write(
        dups,
        {
            "partners/acme.yaml": "id: acme\nname: Acme GmbH\nroles: [customer]\n"
            "phone: '+49 40 9999'\n"
        },
    )
    commit_all(dups, "acme's phone")
    result = crm(dups, "merge", "partner", "acme", "acme-dup")
    assert result.returncode == 0, result.stderr
    assert "acme-dup had other values for name, phone: acme's are kept" in result.stdout


def test_no_catalog_refers_to_partners_or_contacts() -> None:
    """crm merge reads only records: it holds while no catalog refers to these."""
    catalogs = set(all_schemas()) - set(RECORD_FOLDERS.values()) - {"common", "crm"}
    for name in catalogs:
        targets = {spec.target for spec in ref_specs(name)}
        targets |= {t for spec in ref_specs(name) for _, t in spec.targets}
        assert not targets & {"partners", "contacts"}, name


def _paused_merge(root: Path, fifo: Path) -> subprocess.Popen[str]:
    import os

    os.mkfifo(fifo)
    return subprocess.Popen(
        [sys.executable, "-m", "crmfiles", "merge", "partner", "acme", "acme-dup"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRM_TEST_PAUSE_AT": f"prepare:{fifo}"},
    )


def test_a_duplicate_changed_meanwhile_is_refused(dups: Path, tmp_path: Path) -> None:
    proc = _paused_merge(dups, tmp_path / "pause")
    with open(tmp_path / "pause", "wb"):  # crm has read everything, not yet committed
        write(dups, {DUP: (dups / DUP).read_text() + "comment: changed meanwhile\n"})
        other = commit_all(dups, "a comment on the duplicate")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert f"{DUP} was changed meanwhile by commit" in err and "this command removes it" in err
    assert head(dups) == other and (dups / DUP).exists()
    assert git(dups, "status", "--porcelain") == ""


def test_a_commit_elsewhere_meanwhile_is_kept_and_the_merge_lands_on_top(
    dups: Path, tmp_path: Path
) -> None:
    proc = _paused_merge(dups, tmp_path / "pause")
    with open(tmp_path / "pause", "wb"):
        write(dups, {"partners/rival.yaml": "id: rival\nname: Rival AG\nroles: [competitor]\n"})
        other = commit_all(dups, "rival renamed")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert git(dups, "rev-parse", "HEAD~1").strip() == other
    assert DUP not in git(dups, "ls-files") and git(dups, "status", "--porcelain") == ""


def test_a_deal_with_both_contacts_keeps_the_kept_one_once(dups: Path) -> None:
    write(
        dups,
        {
            "contacts/jane-doe.yaml": """\
                id: jane-doe
                name: Jane Doe
                partner: acme
                """,
            "opportunities/both.yaml": """\
                id: both
                name: Both contacts
                kind: hours
                status: in_progress
                partner: acme
                responsible: bob
                probability: 20
                opened: 2026-02-10
                contacts:
                  - jane-doe  # met at the fair
                  - john
                  - jane
                """,
        },
    )
    commit_all(dups, "a deal with jane twice")
    result = crm(dups, "merge", "contact", "jane", "jane-doe")
    assert result.returncode == 0, result.stderr
    text = (dups / "opportunities/both.yaml").read_text()
    assert "contacts:\n  - john\n  - jane\n" in text
    assert crm(dups, "validate").returncode == 0


def test_a_reference_written_with_escapes_is_found(dups: Path) -> None:
    """References are looked for in the files whose text names the id (git grep), and
    in those with a backslash: a double-quoted scalar may spell the id with escapes."""
    write(
        dups,
        {
            "contacts/jane-escaped.yaml": 'id: jane-escaped\nname: Jane\npartner: "acme\\x2Ddup"\n',
            "contacts/ann.yaml": "id: ann\nname: Ann\npartner: acme\nnotes: not acme-dup\n",
        },
    )
    commit_all(dups, "an escaped reference, and a mention that is none")
    result = crm(dups, "merge", "partner", "acme", "acme-dup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 references in 7 records rewritten" in result.stdout
    assert (dups / "contacts/jane-escaped.yaml").read_text().endswith('partner: "acme"\n')
    assert (dups / "contacts/ann.yaml").read_text().endswith("notes: not acme-dup\n")
    assert crm(dups, "validate").returncode == 0
