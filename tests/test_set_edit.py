"""``crm set`` and ``crm edit``: any record changed without writing YAML by hand, only
the lines that change, checked by the rules, one commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

OPP = "opportunities/2026/01/acme-forklifts.yaml"
BASE = dedent(BASE_FILES[OPP])


def crm(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def diff(root: Path) -> list[str]:
    out = git(root, "show", "--format=", "--unified=0", "HEAD")
    return [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def lines(repo: Path) -> Path:
    text = BASE.replace(
        "amount: 30000\n",
        "lines:\n  # the trucks themselves\n  - product: forklift\n    quantity: 2\n"
        "    unit_price: 15000  # list price\n",
    )
    write(repo, {OPP: text + "insight:\n  problem: Old trucks  # from the first call\n"})
    commit_all(repo, "lines and insight")
    return repo


def test_set_a_field_is_a_one_line_commit(repo: Path) -> None:
    proc = crm(repo, "set", "acme-forklifts", "expected_close=2026-09-30", "next_milestone=Demo")
    assert proc.returncode == 0, proc.stderr
    assert diff(repo) == [
        "-expected_close: 2026-06-30",
        "+expected_close: 2026-09-30",
        "+next_milestone: Demo",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("crm: set acme-forklifts expected_close, next_milestone\n")
    assert f"Crm-Record: {OPP}" in message
    assert (repo / OPP).read_text().startswith("# a comment that must survive every edit\n")


def test_dotted_paths_and_list_items_keep_comments(lines: Path) -> None:
    assert crm(lines, "set", "acme-forklifts", "insight.pain=Slow loading").returncode == 0
    assert diff(lines) == ["+  pain: Slow loading"]
    assert (
        crm(
            lines,
            "set",
            "acme-forklifts",
            "lines+={description: Mast, quantity: 1, unit_price: 500}",
        ).returncode
        == 0
    )
    assert diff(lines) == ["+  - description: Mast", "+    quantity: 1", "+    unit_price: 500"]
    assert crm(lines, "set", "acme-forklifts", "lines-=2").returncode == 0
    assert diff(lines) == ["-  - description: Mast", "-    quantity: 1", "-    unit_price: 500"]
    text = (lines / OPP).read_text()
    assert "  # the trucks themselves\n" in text and "15000  # list price" in text
    assert "problem: Old trucks  # from the first call" in text


def test_unset_removes_a_field(repo: Path) -> None:
    assert crm(repo, "set", "acme-forklifts", "--unset", "expected_close").returncode == 0
    assert diff(repo) == ["-expected_close: 2026-06-30"]


def test_what_the_rules_forbid_is_refused_and_nothing_is_written(repo: Path) -> None:
    before = head(repo)
    proc = crm(repo, "set", "acme-forklifts", "probability=150")
    assert proc.returncode == 1
    assert f"{OPP}:9:14: error: 150 is greater than the maximum of 100 [schema]" in proc.stdout
    assert "nothing was written" in proc.stderr
    assert head(repo) == before and git(repo, "status", "--porcelain") == ""


def test_a_stage_set_by_hand_is_a_stage_change_without_tasks(repo: Path) -> None:
    assert crm(repo, "set", "acme-forklifts", "stage=proposal").returncode == 0
    message = git(repo, "log", "-1", "--format=%B")
    assert "Crm-Stage-From: qualify\nCrm-Stage-To: proposal" in message
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [OPP]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["acme-forklifts", "probability"], "'probability' is not FIELD=VALUE"),
        (["acme-forklifts", "lines-=3"], "lines is not a list"),
        (["acme-forklifts", "id=other"], "a record's id is its file name"),
        (["acme-forklifts", "name.first=x"], "name is not a mapping"),
        (["nobody", "name=x"], "no record with id 'nobody'"),
        (["--type", "partner", "acme-forklifts", "name=x"], "no record with id 'acme-forklifts'"),
        (["acme-forklifts"], "nothing to set"),
    ],
)
def test_bad_assignments_are_usage_errors(repo: Path, args: list[str], error: str) -> None:
    proc = crm(repo, "set", *args)
    assert proc.returncode == 2
    assert error in proc.stderr


def test_type_picks_between_two_records_with_one_id(repo: Path) -> None:
    write(repo, {"contacts/acme.yaml": "id: acme\nname: Acme Reception\npartner: acme\n"})
    commit_all(repo, "a contact named like the partner")
    assert crm(repo, "set", "acme", "phone=1").returncode == 2
    assert crm(repo, "set", "--type", "contact", "acme", "phone='+49 1'").returncode == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["contacts/acme.yaml"]


def test_no_commit_and_branch(repo: Path) -> None:
    before = head(repo)
    assert crm(repo, "set", "acme-forklifts", "probability=20", "--no-commit").returncode == 0
    assert head(repo) == before and "probability: 20" in (repo / OPP).read_text()
    git(repo, "checkout", "--", OPP)
    assert crm(repo, "set", "acme-forklifts", "probability=20", "--branch").returncode == 0
    assert head(repo) == before and "probability: 10" in (repo / OPP).read_text()
    assert "probability: 20" in git(repo, "show", f"crm/acme-forklifts-set:{OPP}")


# --- crm edit ---------------------------------------------------------------------------


def editor(tmp_path: Path, script: str) -> dict[str, str]:
    path = tmp_path / "editor.sh"
    path.write_text("#!/bin/sh\nset -e\n" + script)
    path.chmod(0o755)
    return {"GIT_EDITOR": str(path)}


def test_edit_saves_and_commits(repo: Path, tmp_path: Path) -> None:
    env = editor(tmp_path, "sed -i 's/^name: Acme forklifts$/name: Acme forklift fleet/' \"$1\"\n")
    proc = crm(repo, "edit", "acme-forklifts", env=env)
    assert proc.returncode == 0, proc.stderr
    assert diff(repo) == ["-name: Acme forklifts", "+name: Acme forklift fleet"]
    assert git(repo, "log", "-1", "--format=%s").strip() == "crm: edit acme-forklifts name"


def test_edit_quit_without_saving_changes_nothing(repo: Path, tmp_path: Path) -> None:
    before = head(repo)
    proc = crm(repo, "edit", "acme-forklifts", env=editor(tmp_path, "true\n"))
    assert proc.returncode == 0
    assert "was not changed; nothing was written" in proc.stderr
    assert head(repo) == before


def test_edit_reopens_with_the_diagnostics_on_top_until_it_passes(
    repo: Path, tmp_path: Path
) -> None:
    rounds = tmp_path / "rounds"
    script = f"""\
n=$(cat {rounds} 2>/dev/null || echo 0); echo $((n+1)) > {rounds}
cp "$1" {tmp_path}/seen-$n
if [ "$n" = 0 ]; then sed -i 's/^probability: 10$/probability: 150/' "$1"
else sed -i 's/^probability: 150$/probability: 20/' "$1"; fi
"""
    proc = crm(repo, "edit", "acme-forklifts", env=editor(tmp_path, script))
    assert proc.returncode == 0, proc.stderr
    second = (tmp_path / "seen-1").read_text()
    assert second.startswith("# crm edit: the rules refused this record")
    assert "line 9: error: 150 is greater than the maximum of 100 [schema]" in second
    text = (repo / OPP).read_text()
    assert "probability: 20" in text and "# crm edit:" not in text
    assert diff(repo) == ["-probability: 10", "+probability: 20"]


def test_edit_refused_then_left_alone_writes_nothing(repo: Path, tmp_path: Path) -> None:
    before = head(repo)
    script = f"""\
if [ ! -e {tmp_path}/once ]; then touch {tmp_path}/once
  sed -i 's/^probability: 10$/probability: 150/' "$1"; fi
"""
    proc = crm(repo, "edit", "acme-forklifts", env=editor(tmp_path, script))
    assert proc.returncode == 1
    assert head(repo) == before and git(repo, "status", "--porcelain") == ""


def test_edit_refuses_when_the_file_changed_meanwhile(repo: Path, tmp_path: Path) -> None:
    script = f"""\
sed -i 's/^probability: 10$/probability: 30/' {repo / OPP}
sed -i 's/^probability: 10$/probability: 20/' "$1"
"""
    proc = crm(repo, "edit", "acme-forklifts", env=editor(tmp_path, script))
    assert proc.returncode == 2
    assert "changed on disk while it was being edited" in proc.stderr
    assert "probability: 30" in (repo / OPP).read_text()  # someone else's edit is kept
