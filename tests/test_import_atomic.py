"""``crm import csv`` is all or nothing: when git refuses the commit (a hook says no,
another git holds the index lock) the files it wrote are gone and unstaged, and it
says so; with a key column, importing the same file again finds what it made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import git

MAPPING = """\
key: Ref
columns:
  Deal: name
  Value: amount
defaults:
  kind: hours
  status: in_progress
  partner: acme
  responsible: alice
  opened: 2026-02-01
"""
ROWS = 40
DEALS = "Ref,Deal,Value\n" + "".join(f"D-{n},Import Co {n},{100 + n}\n" for n in range(1, ROWS + 1))


def crm_import(root: Path, csv_text: str = DEALS, mapping: str = MAPPING, *args: str):  # type: ignore[no-untyped-def]
    (root.parent / "deals.csv").write_text(csv_text, encoding="utf-8")
    (root.parent / "map.yaml").write_text(mapping, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", "import", "csv", str(root.parent / "deals.csv"),
         "--type", "opportunities", "--map", str(root.parent / "map.yaml"), *args],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def status(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


def imported(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "opportunities").rglob("import-co*.yaml"))


def test_a_refusing_hook_leaves_no_file_behind(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'imports need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    head = git(repo, "rev-parse", "HEAD").strip()
    proc = crm_import(repo)
    assert proc.returncode == 3  # git refused (exit 3, docs/cli.md)
    assert "imports need a review" in proc.stderr
    assert f"nothing was imported: the {ROWS} files it wrote are removed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert status(repo) == "" and imported(repo) == []
    hook.unlink()  # and once the hook lets it through, the same file imports whole
    proc = crm_import(repo)
    assert proc.returncode == 0, proc.stderr
    assert imported(repo) == sorted(f"import-co-{n}.yaml" for n in range(1, ROWS + 1))


def test_a_held_index_lock_leaves_no_file_behind(repo: Path) -> None:
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    before = status(repo)
    proc = crm_import(repo)
    lock.unlink()
    assert proc.returncode == 3
    assert "index.lock" in proc.stderr and "nothing was imported" in proc.stderr
    assert status(repo) == before == "" and imported(repo) == []


def test_a_second_run_finds_the_records_the_first_made(repo: Path) -> None:
    first = crm_import(repo)
    assert first.returncode == 0, first.stderr
    head = git(repo, "rev-parse", "HEAD").strip()
    made = imported(repo)
    assert len(made) == ROWS
    text = (repo / "opportunities/2026/02/import-co-1.yaml").read_text()
    assert "external_id: D-1" in text
    again = crm_import(repo)
    assert again.returncode == 0, again.stderr
    assert f"{ROWS} already imported, 0 new" in again.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head  # no commit
    assert imported(repo) == made and status(repo) == ""
    # a file with one new row: that row alone
    more = DEALS + "D-99,Import Co 99,5\n"
    third = crm_import(repo, more)
    assert third.returncode == 0, third.stderr
    assert f"{ROWS} already imported, 1 new" in third.stderr
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "opportunities/2026/02/import-co-99.yaml"
    ]
    assert git(repo, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert (
        subprocess.run(
            [sys.executable, "-m", "crmfiles", "validate"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )


def test_a_second_run_finds_uncommitted_records_too(repo: Path) -> None:
    assert crm_import(repo, DEALS, MAPPING, "--no-commit").returncode == 0
    again = crm_import(repo, DEALS, MAPPING, "--no-commit")
    assert again.returncode == 0
    assert f"{ROWS} already imported, 0 new" in again.stderr
    assert len(imported(repo)) == ROWS


def test_a_key_column_must_identify_each_row(repo: Path) -> None:
    twice = "Ref,Deal,Value\nD-1,A,1\nD-1,B,2\n,C,3\n"
    proc = crm_import(repo, twice)
    assert proc.returncode == 1
    assert "row 2 (b): refused: key 'D-1' (column 'Ref') is on row 1 too" in proc.stdout
    assert "row 3 (c): refused: no key: column 'Ref' is empty" in proc.stdout
    assert status(repo) == ""
    proc = crm_import(repo, "Deal,Value\nA,1\n")
    assert proc.returncode == 2
    assert "'Ref'" in proc.stderr and "Traceback" not in proc.stderr
