"""`crm validate` as a user and CI run it: a real process in a real git repository.

Every report format, exit statuses 0 / 1 / 2, --strict, rule levels from crm.yaml,
PATH arguments, --staged and --rev, NO_COLOR, and stdout holding nothing but the
report in the machine formats.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_FILES, commit_all, dedent, git, write

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FIRST_LINE = re.compile(r"^[^\s:]+:\d+:\d+: (error|warning): .* \[[a-z-]+\]$")

# an opportunity with one error (an unknown partner) and one warning (a competitor
# without the competitor role)
BROKEN = """\
    id: x
    name: X
    kind: hours
    status: in_progress
    partner: nobody
    responsible: alice
    competitors:
      - partner: acme
    """
OPP = "opportunities/2026/05/x.yaml"
# only the warning
WARNING_ONLY = BROKEN.replace("partner: nobody", "partner: acme")


def crm(root: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "crmfiles", "validate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


# --- exit status -----------------------------------------------------------------


def test_a_clean_repository_exits_0(repo: Path) -> None:
    proc = crm(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("passed.")
    assert proc.stderr == ""


def test_warnings_alone_exit_0_and_strict_makes_them_count(repo: Path) -> None:
    write(repo, {OPP: WARNING_ONLY})
    proc = crm(repo)
    assert proc.returncode == 0
    assert f"{OPP}:8:14: warning: " in proc.stdout
    assert crm(repo, "--strict").returncode == 1


def test_errors_exit_1(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    proc = crm(repo)
    assert proc.returncode == 1
    first_lines = [line for line in proc.stdout.splitlines() if FIRST_LINE.match(line)]
    assert first_lines == [
        f"{OPP}:5:10: error: unknown partner 'nobody' [unknown-reference]",
        f"{OPP}:8:14: warning: competitor 'acme' does not have the competitor role "
        "[competitor-role]",
    ]
    assert "    5 | partner: nobody" in proc.stdout
    assert_no_traceback(proc)


def test_no_crm_yaml_exits_2(tmp_path: Path) -> None:
    proc = crm(tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "not in a CRM repository" in proc.stderr
    assert_no_traceback(proc)


def test_repo_option_without_crm_yaml_exits_2(repo: Path, tmp_path: Path) -> None:
    proc = crm(repo, "--repo", str(tmp_path))
    assert proc.returncode == 2
    assert "has no crm.yaml" in proc.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param("version: 1\nname: [Test\n", "crm.yaml:2:7", id="yaml-syntax"),
        pytest.param("version: 2\nname: Test\ncurrency: EUR\n", "version", id="schema"),
        pytest.param("- a list\n", "mapping", id="not-a-mapping"),
        pytest.param(b"version: 1\nname: \xff\n", "UTF-8", id="encoding"),
        pytest.param(
            "version: 1\nname: Test\ncurrency: EUR\nlint:\n  rules:\n    amount-mismatc: error\n",
            "unknown rule 'amount-mismatc'; did you mean 'amount-mismatch'?",
            id="unknown-rule",
        ),
        pytest.param(
            "version: 1\nname: Test\ncurrency: EUR\nlint:\n  rules:\n    amount-mismatch: loud\n",
            "amount-mismatch",
            id="unknown-level",
        ),
    ],
)
def test_a_broken_crm_yaml_exits_2(repo: Path, config: str | bytes, message: str) -> None:
    write(repo, {"crm.yaml": config})
    proc = crm(repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("crm: error: ")
    assert message in proc.stderr
    assert_no_traceback(proc)


def test_an_unknown_revision_exits_2(repo: Path) -> None:
    proc = crm(repo, "--rev", "no-such-branch")
    assert proc.returncode == 2
    assert "unknown revision 'no-such-branch'" in proc.stderr
    assert_no_traceback(proc)


def test_a_bad_option_exits_2(repo: Path) -> None:
    proc = crm(repo, "--format", "xml")
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr


# --- rule levels in crm.yaml -------------------------------------------------------

CONFIG = dedent(BASE_FILES["crm.yaml"])


def test_rule_levels_from_crm_yaml(repo: Path) -> None:
    write(
        repo,
        {
            "crm.yaml": CONFIG
            + "lint:\n  rules:\n    amount-mismatch: error\n    competitor-role: 'off'\n",
            OPP: dedent(WARNING_ONLY) + "amount: 1\nlines:\n  - product: forklift\n",
        },
    )
    proc = crm(repo, "--format", "json")
    assert proc.returncode == 1
    found = [(d["rule"], d["severity"]) for d in json.loads(proc.stdout)["diagnostics"]]
    assert found == [("amount-mismatch", "error")]  # competitor-role is off


def test_extends_strict_makes_every_warning_an_error(repo: Path) -> None:
    write(repo, {"crm.yaml": CONFIG + "lint:\n  extends: strict\n", OPP: WARNING_ONLY})
    proc = crm(repo)
    assert proc.returncode == 1
    assert f"{OPP}:8:14: error: " in proc.stdout


def test_extends_strict_and_a_rule_turned_off(repo: Path) -> None:
    config = CONFIG + "lint:\n  extends: strict\n  rules:\n    competitor-role: warning\n"
    write(repo, {"crm.yaml": config, OPP: WARNING_ONLY})
    proc = crm(repo)
    assert proc.returncode == 0
    assert f"{OPP}:8:14: warning: " in proc.stdout


# --- formats -----------------------------------------------------------------------


def machine(repo: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    write(repo, {OPP: BROKEN})
    proc = crm(repo, "--format", fmt)
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert_no_traceback(proc)
    return proc


def test_format_json(repo: Path) -> None:
    report = json.loads(machine(repo, "json").stdout)  # stdout is nothing but the report
    assert report["version"] == 1
    assert report["summary"]["errors"] == 1 and report["summary"]["warnings"] == 1
    first = report["diagnostics"][0]
    assert {k: first[k] for k in ("path", "line", "column", "end_line", "end_column")} == {
        "path": OPP,
        "line": 5,
        "column": 10,
        "end_line": 5,
        "end_column": 16,
    }
    assert (first["rule"], first["severity"], first["record"]) == (
        "unknown-reference",
        "error",
        "x",
    )


def test_format_github(repo: Path) -> None:
    lines = machine(repo, "github").stdout.splitlines()
    assert lines[0].startswith(
        f"::error file={OPP},line=5,col=10,endLine=5,endColumn=16,title=unknown-reference::"
    )
    assert lines[1].startswith(f"::warning file={OPP},line=8,col=14,")
    assert all(line.startswith("::") for line in lines)


def test_format_github_is_the_default_under_github_actions(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    proc = crm(repo, GITHUB_ACTIONS="true")
    assert proc.stdout.startswith("::error file=")


def test_format_sarif(repo: Path) -> None:
    log = json.loads(machine(repo, "sarif").stdout)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["unknown-reference", "competitor-role"]
    assert [r["level"] for r in results] == ["error", "warning"]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (5, 10)


def test_format_sarif_of_a_clean_repository_has_an_empty_results_list(repo: Path) -> None:
    proc = crm(repo, "--format", "sarif")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["runs"][0]["results"] == []


def test_format_gitlab(repo: Path) -> None:
    issues = json.loads(machine(repo, "gitlab").stdout)
    assert [(i["check_name"], i["severity"]) for i in issues] == [
        ("unknown-reference", "major"),
        ("competitor-role", "minor"),
    ]
    assert issues[0]["location"] == {"path": OPP, "lines": {"begin": 5, "end": 5}}


def test_format_gitlab_fingerprint_does_not_follow_the_line(repo: Path) -> None:
    before = json.loads(machine(repo, "gitlab").stdout)
    write(repo, {OPP: "# a new first line\n" + dedent(BROKEN)})
    after = json.loads(crm(repo, "--format", "gitlab").stdout)
    assert [i["location"]["lines"]["begin"] for i in after] == [6, 9]
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "gitlab"])
def test_every_format_writes_to_output_file(repo: Path, fmt: str, tmp_path: Path) -> None:
    write(repo, {OPP: BROKEN})
    out = tmp_path / f"report.{fmt}"
    proc = crm(repo, "--format", fmt, "--output", str(out))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "unknown-reference" in out.read_text("utf-8")


# --- colour --------------------------------------------------------------------------


def test_no_color_wins_over_force_color(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    assert ANSI.search(crm(repo, FORCE_COLOR="1", NO_COLOR=None).stdout)
    assert not ANSI.search(crm(repo, FORCE_COLOR="1", NO_COLOR="1").stdout)


def test_piped_output_has_no_colour(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    assert not ANSI.search(crm(repo, NO_COLOR=None, FORCE_COLOR=None).stdout)


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "gitlab"])
def test_machine_formats_never_carry_colour(repo: Path, fmt: str) -> None:
    write(repo, {OPP: BROKEN})
    assert not ANSI.search(crm(repo, "--format", fmt, FORCE_COLOR="1", NO_COLOR=None).stdout)


# --- PATH arguments ------------------------------------------------------------------


def test_paths_limit_the_report_not_what_is_read(repo: Path) -> None:
    write(
        repo,
        {
            OPP: BROKEN,
            "contacts/jim.yaml": "id: jim\nname: Jim\npartner: nobody\n",
        },
    )
    proc = crm(repo, "--format", "json", "contacts")
    assert proc.returncode == 1
    assert [d["path"] for d in json.loads(proc.stdout)["diagnostics"]] == ["contacts/jim.yaml"]
    proc = crm(repo, "--format", "json", OPP, "partners")
    assert [d["path"] for d in json.loads(proc.stdout)["diagnostics"]] == [OPP, OPP]
    # a reference is checked against the whole revision, not only the named files
    assert crm(repo, "contacts/jane.yaml").returncode == 0


def test_paths_relative_to_a_subfolder(repo: Path) -> None:
    write(repo, {"contacts/jim.yaml": "id: jim\nname: Jim\npartner: nobody\n", OPP: BROKEN})
    proc = crm(repo / "contacts", "--format", "json", "jim.yaml")
    assert [d["path"] for d in json.loads(proc.stdout)["diagnostics"]] == ["contacts/jim.yaml"]


def test_a_path_outside_the_repository_exits_2(repo: Path, tmp_path: Path) -> None:
    proc = crm(repo, str(tmp_path))
    assert proc.returncode == 2
    assert "outside the repository" in proc.stderr


# --- --staged and --rev ------------------------------------------------------------


def test_staged_checks_the_index_not_the_work_tree(repo: Path) -> None:
    # broken in the work tree only
    write(repo, {OPP: BROKEN})
    assert crm(repo).returncode == 1
    assert crm(repo, "--staged").returncode == 0
    # broken in the index only: staged, then fixed in the work tree
    git(repo, "add", OPP)
    write(repo, {OPP: WARNING_ONLY})
    assert crm(repo).returncode == 0
    proc = crm(repo, "--staged", "--format", "json")
    assert proc.returncode == 1
    assert [d["line"] for d in json.loads(proc.stdout)["diagnostics"]] == [5, 8]


def test_staged_sees_a_staged_deletion_and_an_untracked_file(repo: Path) -> None:
    git(repo, "rm", "-q", "--cached", "partners/acme.yaml")  # still in the work tree
    write(repo, {"contacts/jim.yaml": "id: jim\nname: Jim\npartner: nobody\n"})  # untracked
    proc = crm(repo, "--staged", "--format", "json")
    paths = {d["path"] for d in json.loads(proc.stdout)["diagnostics"]}
    # acme is gone from the index: its references there are unknown; jim is not staged
    assert paths == {"contacts/jane.yaml", "opportunities/2026/01/acme-forklifts.yaml"}


def test_rev_checks_a_commit(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    commit_all(repo, "broken")
    write(repo, {OPP: WARNING_ONLY})
    commit_all(repo, "fixed")
    assert crm(repo).returncode == 0
    assert crm(repo, "--rev", "HEAD").returncode == 0
    proc = crm(repo, "--rev", "HEAD~1", "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["diagnostics"][0]["path"] == OPP
    assert crm(repo, "--rev", "main~1").returncode == 1


def test_staged_and_rev_do_not_go_together(repo: Path) -> None:
    proc = crm(repo, "--staged", "--rev", "HEAD")
    assert proc.returncode == 2
    assert "not allowed with" in proc.stderr


# --- a check never writes ----------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_validate_modifies_nothing(repo: Path) -> None:
    write(repo, {OPP: BROKEN, "partners/p.yaml": b"\xff\xfe"})
    before = snapshot(repo)
    status = git(repo, "status", "--porcelain")
    for args in ((), ("--staged",), ("--rev", "HEAD"), ("--format", "sarif")):
        crm(repo, *args)
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == status


def test_json_report_is_stable(repo: Path) -> None:
    write(repo, {OPP: BROKEN})
    first: Any = json.loads(crm(repo, "--format", "json").stdout)
    second: Any = json.loads(crm(repo, "--format", "json").stdout)
    assert first == second


def test_a_path_that_names_no_file_exits_2(repo: Path) -> None:
    proc = crm(repo, "opportunities/typo.yaml")
    assert proc.returncode == 2
    assert "typo.yaml" in proc.stderr


def test_an_unwritable_output_file_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    proc = crm(repo, "--output", str(tmp_path / "no-such-folder" / "report.txt"))
    assert proc.returncode == 2
    assert "internal error" not in proc.stderr
