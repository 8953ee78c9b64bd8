"""The field-level merge driver, through real ``git merge`` and ``git rebase``: `crm
install` sets it up, git calls `crm merge-driver` for files both sides changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cases import commit, first_line
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.lint import lint

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])
LINES = """\
lines:
  - product: forklift
    quantity: 2  # two to start with
    unit_price: 15000
"""


def run_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


@pytest.fixture
def crm(repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The ``repo`` fixture with the merge driver installed and .gitattributes committed."""
    assert main(["install"]) == 0
    out = capsys.readouterr().out
    assert "merge.crm.driver" in out and "wrote .gitattributes" in out
    commit_all(repo, "merge driver")
    return repo


def branches(root: Path, ours: dict[str, str], theirs: dict[str, str]) -> None:
    """``theirs`` committed on branch feature, ``ours`` on main (checked out)."""
    git(root, "checkout", "-q", "-b", "feature")
    write(root, theirs)
    commit(root, "theirs")
    git(root, "checkout", "-q", "main")
    write(root, ours)
    commit(root, "ours")


def test_install_writes_config_and_attributes_once(repo: Path) -> None:
    assert main(["install"]) == 0
    driver = git(repo, "config", "merge.crm.driver").strip()
    assert driver.endswith(" merge-driver %O %A %B %P")
    attributes = (repo / ".gitattributes").read_text()
    assert main(["install"]) == 0  # again: nothing doubles
    assert (repo / ".gitattributes").read_text() == attributes
    assert git(repo, "config", "--get-all", "merge.crm.driver").strip() == driver
    checked = git(repo, "check-attr", "merge", "--", OPPORTUNITY, "crm.yaml", "README.md")
    assert checked.splitlines() == [
        f"{OPPORTUNITY}: merge: crm",
        "crm.yaml: merge: crm",
        "README.md: merge: unspecified",
    ]


def test_different_fields_merge_cleanly(crm: Path) -> None:
    ours = OPEN.replace("stage: qualify", "stage: proposal").replace(
        "probability: 10", "probability: 40  # after the call"
    )
    theirs = OPEN.replace("amount: 30000", "amount: 32000").replace(
        "expected_close: 2026-06-30", "expected_close: 2026-07-31\ncomment: wants a demo first"
    )
    branches(crm, {OPPORTUNITY: ours}, {OPPORTUNITY: theirs})
    # the probability and amount lines are neighbours: git's line merge would conflict
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert (crm / OPPORTUNITY).read_text() == (
        "# a comment that must survive every edit\n"
        "id: acme-forklifts\n"
        "name: Acme forklifts\n"
        "kind: standard-sale\n"
        "stage: proposal\n"
        "status: in_progress\n"
        "partner: acme\n"
        "responsible: alice\n"
        "probability: 40  # after the call\n"
        "amount: 32000\n"
        "currency: EUR\n"
        "opened: 2026-01-10\n"
        "expected_close: 2026-07-31\n"
        "comment: wants a demo first\n"
    )
    assert git(crm, "status", "--porcelain") == ""
    assert lint(crm, base="HEAD~2", head="HEAD").report.diagnostics == []


def test_the_same_field_changed_on_both_sides_is_a_conflict_on_that_field(crm: Path) -> None:
    ours = OPEN.replace("probability: 10", "probability: 20").replace(
        "opened: 2026-01-10", "opened: 2026-01-12"
    )
    theirs = OPEN.replace("probability: 10", "probability: 30").replace(
        "amount: 30000", "amount: 35000"
    )
    branches(crm, {OPPORTUNITY: ours}, {OPPORTUNITY: theirs})
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 1
    assert f"CONFLICT (content): Merge conflict in {OPPORTUNITY}" in merged.stdout
    assert git(crm, "status", "--porcelain").splitlines() == [f"UU {OPPORTUNITY}"]
    assert (crm / OPPORTUNITY).read_text() == (
        "# a comment that must survive every edit\n"
        "id: acme-forklifts\n"
        "name: Acme forklifts\n"
        "kind: standard-sale\n"
        "stage: qualify\n"
        "status: in_progress\n"
        "partner: acme\n"
        "responsible: alice\n"
        "<<<<<<< ours\n"
        "probability: 20\n"
        "=======\n"
        "probability: 30\n"
        ">>>>>>> theirs\n"
        "amount: 35000\n"
        "currency: EUR\n"
        "opened: 2026-01-12\n"
        "expected_close: 2026-06-30\n"
    )


def test_lines_and_contacts_added_on_both_sides_are_all_kept(crm: Path) -> None:
    write(crm, {OPPORTUNITY: OPEN + "contacts: [jane]\n" + LINES})
    commit(crm, "a first line")
    ours = (OPEN + "contacts: [jane, joe]\n" + LINES).replace("quantity: 2 ", "quantity: 3 ")
    theirs = (
        OPEN
        + "contacts: [jane, kim]\n"
        + LINES
        + "  # the mast, quoted separately\n"
        + "  - product: mast\n    quantity: 1\n"
    )
    branches(crm, {OPPORTUNITY: ours}, {OPPORTUNITY: theirs})
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert (crm / OPPORTUNITY).read_text() == OPEN + (
        "contacts: [jane, joe, kim]\n"
        "lines:\n"
        "  - product: forklift\n"
        "    quantity: 3  # two to start with\n"
        "    unit_price: 15000\n"
        "  # the mast, quoted separately\n"
        "  - product: mast\n"
        "    quantity: 1\n"
    )


def test_catalog_entries_added_on_both_sides_merge_by_id(crm: Path) -> None:
    tags = dedent(BASE_FILES["catalogs/tags.yaml"])
    ours = tags + "- id: hot\n  name: Hot lead\n"
    theirs = tags.replace("name: Priority", "name: Top priority") + "- id: cold\n  name: Cold\n"
    branches(crm, {"catalogs/tags.yaml": ours}, {"catalogs/tags.yaml": theirs})
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert (crm / "catalogs/tags.yaml").read_text() == (
        "- id: priority\n  name: Top priority\n"
        "- id: hot\n  name: Hot lead\n"
        "- id: cold\n  name: Cold\n"
    )


def test_a_rebase_over_edits_of_other_fields_succeeds(crm: Path) -> None:
    branches(
        crm,
        {OPPORTUNITY: OPEN.replace("probability: 10", "probability: 15")},
        {OPPORTUNITY: OPEN.replace("amount: 30000", "amount: 31000")},
    )
    git(crm, "checkout", "-q", "feature")
    rebased = run_git(crm, "rebase", "main")
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    text = (crm / OPPORTUNITY).read_text()
    assert "probability: 15\namount: 31000\n" in text
    assert git(crm, "log", "--format=%s", "-2").splitlines() == ["theirs", "ours"]


def test_a_file_that_is_not_yaml_gets_gits_line_merge(crm: Path) -> None:
    broken = OPEN + "notes: [unclosed\n"
    write(crm, {OPPORTUNITY: broken})
    commit(crm, "broken")
    branches(
        crm,
        {OPPORTUNITY: broken.replace("name: Acme forklifts", "name: Acme trucks")},
        {OPPORTUNITY: broken.replace("notes: [unclosed", "notes: [still unclosed")},
    )
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    text = (crm / OPPORTUNITY).read_text()
    assert "name: Acme trucks\n" in text and text.endswith("notes: [still unclosed\n")


def test_a_conflict_in_a_file_that_is_not_yaml_has_gits_markers(crm: Path) -> None:
    broken = OPEN + "notes: [unclosed\n"
    write(crm, {OPPORTUNITY: broken})
    commit(crm, "broken")
    branches(
        crm,
        {OPPORTUNITY: broken.replace("[unclosed", "[mine")},
        {OPPORTUNITY: broken.replace("[unclosed", "[yours")},
    )
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 1
    assert (
        (crm / OPPORTUNITY)
        .read_text()
        .endswith("<<<<<<< ours\nnotes: [mine\n=======\nnotes: [yours\n>>>>>>> theirs\n")
    )


def test_install_in_a_fresh_clone_makes_merges_use_the_driver(
    crm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(crm), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    write(clone, {OPPORTUNITY: OPEN.replace("amount: 30000", "amount: 31000")})
    commit(clone, "theirs")
    git(clone, "checkout", "-q", "main")
    write(clone, {OPPORTUNITY: OPEN.replace("probability: 10", "probability: 15")})
    commit(clone, "ours")

    # .gitattributes came with the clone, the driver's command did not: git's line
    # merge conflicts on the neighbouring lines
    assert run_git(clone, "config", "merge.crm.driver").returncode == 1
    assert run_git(clone, "merge", "--no-edit", "feature").returncode == 1
    assert "<<<<<<< HEAD\nprobability: 15\namount: 30000\n" in (clone / OPPORTUNITY).read_text()
    git(clone, "merge", "--abort")

    assert main(["install", "--repo", str(clone)]) == 0
    assert ".gitattributes already routes CRM files" in capsys.readouterr().out
    merged = run_git(clone, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "probability: 15\namount: 31000\n" in (clone / OPPORTUNITY).read_text()


def test_crm_init_sets_up_the_driver(tmp_path: Path) -> None:
    target = tmp_path / "new"
    assert main(["init", str(target)]) == 0
    assert "merge-driver %O %A %B %P" in git(target, "config", "merge.crm.driver")
    assert git(target, "ls-files", ".gitattributes").strip() == ".gitattributes"
    assert "merge: crm" in git(target, "check-attr", "merge", "--", "crm.yaml")


# --- a merge lint must judge: two lawful branches, one forbidden combination ---------


CUSTOM = OPEN.replace("kind: standard-sale", "kind: custom-deal")


def test_a_skip_made_by_combining_two_branches_is_caught(crm: Path) -> None:
    """A custom deal may skip stages, and may turn standard in its first stage; each
    branch does one of the two, and the merge is a standard sale that skipped."""
    write(crm, {OPPORTUNITY: CUSTOM})
    base = commit(crm, "a custom deal")
    branches(
        crm,
        {OPPORTUNITY: CUSTOM.replace("kind: custom-deal", "kind: standard-sale")},
        {OPPORTUNITY: CUSTOM.replace("stage: qualify", "stage: negotiate")},
    )
    assert lint(crm, base=base, head="main").report.diagnostics == []
    assert lint(crm, base=base, head="feature").report.diagnostics == []
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr  # no conflict: two fields
    merge = git(crm, "rev-parse", "HEAD").strip()

    assert [(first_line(d), d.commit) for d in lint(crm, base=base).report.diagnostics] == [
        (
            f"{OPPORTUNITY}:5:8: error: stage moved from 'qualify' to 'negotiate', "
            "skipping 'proposal' [stage-skip]",
            merge,
        )
    ]
    assert main(["lint", "--base", base, "--head", "HEAD"]) == 1


def test_a_merge_of_moves_made_step_by_step_on_a_branch_is_clean(crm: Path) -> None:
    """The branch moves twice, main edits another field of the same deal: the merge
    combines them, and from main it looks like a skip; from the branch it is one
    lawful edit."""
    base = git(crm, "rev-parse", "HEAD").strip()
    git(crm, "checkout", "-q", "-b", "feature")
    write(crm, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: proposal")})
    commit(crm, "qualify -> proposal")
    write(crm, {OPPORTUNITY: OPEN.replace("stage: qualify", "stage: negotiate")})
    commit(crm, "proposal -> negotiate")
    git(crm, "checkout", "-q", "main")
    write(crm, {OPPORTUNITY: OPEN.replace("currency: EUR", "currency: EUR\nterms: net30")})
    commit(crm, "terms")
    merged = run_git(crm, "merge", "--no-edit", "feature")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "stage: negotiate\n" in (crm / OPPORTUNITY).read_text()
    assert lint(crm, base=base).report.diagnostics == []


# --- the driver on its own: `crm merge-driver BASE OURS THEIRS PATH` ------------------


def drive(tmp_path: Path, path: str, base: str, ours: str, theirs: str) -> tuple[int, str]:
    files = []
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(str(tmp_path / name))
    code = main(["merge-driver", *files, path])
    return code, (tmp_path / "ours").read_bytes().decode("utf-8")


RECORD = """\
id: acme-forklifts
insight:
  pain: slow trucks
lines:
  - product: forklift
    quantity: 2
  - product: mast
    quantity: 1
comment: call back
"""


@pytest.mark.parametrize(
    ("path", "base", "ours", "theirs", "code", "expected"),
    [
        pytest.param(
            OPPORTUNITY,
            RECORD,
            RECORD.replace("pain: slow trucks", "pain: slow trucks\n  problem: old fleet"),
            RECORD.replace("pain: slow trucks", "pain: slower trucks").replace(
                "comment: call back\n", ""
            ),
            0,
            RECORD.replace("comment: call back\n", "").replace(
                "pain: slow trucks", "pain: slower trucks\n  problem: old fleet"
            ),
            id="nested-keys-and-a-removed-field",
        ),
        pytest.param(
            OPPORTUNITY,
            RECORD,
            RECORD.replace("  - product: mast\n    quantity: 1\n", ""),
            RECORD.replace("quantity: 1", "quantity: 4"),
            1,
            RECORD.replace(
                "lines:\n  - product: forklift\n    quantity: 2\n  - product: mast\n"
                "    quantity: 1\n",
                "<<<<<<< ours\nlines:\n  - product: forklift\n    quantity: 2\n=======\n"
                "lines:\n  - product: forklift\n    quantity: 2\n  - product: mast\n"
                "    quantity: 4\n>>>>>>> theirs\n",
            ),
            id="a-line-removed-and-changed",
        ),
        pytest.param(
            "catalogs/stages.yaml",
            "- id: a\n  probability: 10\n- id: b\n  probability: 50\n",
            "- id: a\n  probability: 15\n- id: b\n  probability: 60\n",
            "- id: a\n  probability: 10\n- id: b\n  probability: 55\n",
            1,
            "- id: a\n  probability: 15\n<<<<<<< ours\n- id: b\n  probability: 60\n=======\n"
            "- id: b\n  probability: 55\n>>>>>>> theirs\n",
            id="a-catalog-entry-both-changed",
        ),
        pytest.param(
            "notes/todo.yaml",
            "a: 1\nb: 2\n",
            "a: 3\nb: 2\n",
            "a: 1\nb: 4\n",
            1,
            "<<<<<<< ours\na: 3\nb: 2\n=======\na: 1\nb: 4\n>>>>>>> theirs\n",
            id="not-a-crm-file-line-merge",
        ),
    ],
)
def test_the_driver(
    tmp_path: Path, path: str, base: str, ours: str, theirs: str, code: int, expected: str
) -> None:
    assert drive(tmp_path, path, base, ours, theirs) == (code, expected)


def test_crlf_files_get_gits_line_merge(tmp_path: Path) -> None:
    code, text = drive(
        tmp_path, OPPORTUNITY, "a: 1\r\nb: 2\r\n", "a: 3\r\nb: 2\r\n", "a: 1\r\nb: 4\r\n"
    )
    assert code == 1
    assert "a: 3\r\nb: 2\r\n" in text and "a: 1\r\nb: 4\r\n" in text
