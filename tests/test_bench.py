"""bench/: the generator makes the same valid repository every time, and the harness
runs end to end.  No timing assertions: budgets are the benchmark's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import git

BENCH = Path(__file__).resolve().parents[1] / "bench"


def generate(dest: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), str(dest), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_generate_is_deterministic_valid_and_in_sync(tmp_path: Path) -> None:
    heads = []
    for name in ("a", "b"):
        proc = generate(tmp_path / name, "--opportunities", "50", "--commits", "5")
        assert proc.returncode == 0, proc.stderr
        heads.append(git(tmp_path / name, "rev-parse", "HEAD").strip())
    assert heads[0] == heads[1]
    repo = tmp_path / "a"
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "6"
    assert git(repo, "status", "--porcelain") == ""
    assert len(list(repo.glob("opportunities/[0-9][0-9][0-9][0-9]/[0-9][0-9]/*.yaml"))) == 50
    assert len(list(repo.glob("partners/*.yaml"))) == 5
    assert len(list(repo.glob("contacts/*.yaml"))) == 10

    # a stage change is one commit of one file: the stage and probability lines
    subject = git(repo, "log", "-1", "--format=%s")
    assert subject.startswith("crm: move ")
    added, removed, path = git(repo, "diff", "--numstat", "HEAD~1", "HEAD").split()
    assert (added, removed) == ("2", "2")
    assert f"Crm-Record: {path}" in git(repo, "log", "-1", "--format=%b")
    authors = set(git(repo, "log", "--format=%ae", "HEAD~5..HEAD").split())
    assert len(authors) == 5

    validate = subprocess.run(
        [sys.executable, "-m", "crmfiles", "validate", "--repo", str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_generate_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    proc = generate(tmp_path, "--opportunities", "5")
    assert proc.returncode != 0
    assert "not empty" in proc.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine\n"


def test_run_smoke_prints_the_table(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--smoke",
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("workload"))
    for column in ("operation", "peak MiB", "/F-read", "/F-libyaml", "budget"):
        assert column in header
    for operation in ("F-read", "F-libyaml", "check-jsonschema", "validate, cold", "lint --staged"):
        assert operation in proc.stdout
    # the TUI's figures, each a row of its own with its budget (bench/tui_bench.py)
    for figure in ("first screen", "keystroke", "first search", "refilter", "open record"):
        assert f"TUI {figure} " in proc.stdout
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
    rows = json.loads(report.read_text())["rows"]
    assert rows and all(row["status"] == 0 for row in rows)
    # the edits it made to measure "one file changed" are undone
    (repo,) = (tmp_path / "work").iterdir()
    assert git(repo, "status", "--porcelain") == ""
