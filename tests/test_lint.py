"""``crm lint``: every rule case of tests/cases/ with the head in the work tree, the
index and a commit; ``--staged`` when the index and the work tree disagree; and the
command line around it (formats, ``--summary``, exit codes, rule levels)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cases import MODES, Case, Outcome, all_cases, first_line, make_repo, run
from conftest import BASE_FILES, commit_all, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.lint import lint
from crmfiles.rules.registry import RULES
from crmfiles.rules.suite import is_one_revision, is_transition

CASES = {case.rule: case for case in all_cases()}
OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
SKIP = BASE_FILES[OPPORTUNITY].replace("stage: qualify", "stage: negotiate")


# --- the rule cases ---------------------------------------------------------------


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case, str], Outcome]:
    """One repository for every case: each run resets it to the first commit."""
    home = tmp_path_factory.mktemp("cases")
    (home / "gitconfig").write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        root = home / "crm"
        initial = make_repo(root, {path: dedent(text) for path, text in BASE_FILES.items()})
    done: dict[tuple[str, str], Outcome] = {}

    def get(case: Case, variant: str) -> Outcome:
        if (case.rule, variant) not in done:
            done[case.rule, variant] = run(root, initial, case, variant)
        return done[case.rule, variant]

    return get


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule", sorted(CASES))
def test_case_breaks_the_rule(
    outcome: Callable[[Case, str], Outcome], rule: str, mode: str
) -> None:
    case = CASES[rule]
    result = outcome(case, "head")
    found = result.diagnostics[mode]
    if mode not in case.modes:
        # author-not-allowed: only a commit has an author to judge
        assert rule not in {d.rule for d in found}
        return
    assert [first_line(d) for d in found] == list(case.expected("head", mode))
    assert rule in {d.rule for d in found}
    for d in found:
        assert d.severity.value == RULES[d.rule].default
        assert d.line >= 1 and d.column >= 1
        # a transition finding in a commit range names its commit; a rule checked in
        # one revision and on each step may say either
        wanted = {result.head if mode == "commit" and is_transition(d.rule) else None}
        if is_one_revision(d.rule):
            wanted.add(None)
        assert d.commit in wanted, first_line(d)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule", sorted(CASES))
def test_case_fixed_keeps_the_rule(
    outcome: Callable[[Case, str], Outcome], rule: str, mode: str
) -> None:
    case = CASES[rule]
    found = outcome(case, "fixed").diagnostics[mode]
    assert [first_line(d) for d in found] == list(case.fixed_expect)
    assert rule not in {d.rule for d in found}


# --- the index and the work tree --------------------------------------------------


def test_staged_reports_a_forbidden_change_reverted_in_the_work_tree(repo: Path) -> None:
    # the staged text has two more lines than the work tree: positions are the index's
    write(repo, {OPPORTUNITY: "# moved after the call\n# with Jane\n" + dedent(SKIP)})
    git(repo, "add", OPPORTUNITY)
    write(repo, {OPPORTUNITY: BASE_FILES[OPPORTUNITY]})

    staged = lint(repo, staged=True).report.diagnostics
    assert [first_line(d) for d in staged] == [
        f"{OPPORTUNITY}:7:8: error: stage moved from 'qualify' to 'negotiate', "
        "skipping 'proposal' [stage-skip]"
    ]
    assert staged[0].excerpt == ((6, "kind: standard-sale"), (7, "stage: negotiate"))
    assert lint(repo).report.diagnostics == []


def test_staged_ignores_a_forbidden_change_only_in_the_work_tree(repo: Path) -> None:
    write(repo, {OPPORTUNITY: BASE_FILES[OPPORTUNITY].replace("stage: qualify", "stage: proposal")})
    git(repo, "add", OPPORTUNITY)
    write(repo, {OPPORTUNITY: SKIP})

    assert lint(repo, staged=True).report.diagnostics == []
    # the work tree is a step from HEAD, not from the index
    assert [d.rule for d in lint(repo).report.diagnostics] == ["stage-skip"]
    assert main(["lint", "--staged"]) == 0
    assert main(["lint"]) == 1


def test_a_deleted_record_and_an_unrelated_new_one_are_no_rename(repo: Path) -> None:
    write(
        repo,
        {
            "contacts/jane.yaml": None,
            "partners/globex.yaml": "id: globex\nname: Globex\nroles: [prospect]\n",
        },
    )
    found = lint(repo).report.diagnostics
    assert [first_line(d) for d in found] == [
        "contacts/jane.yaml:1:1: error: contact 'jane' was deleted [record-deleted]"
    ]


def test_an_edited_rename_in_the_work_tree_is_id_changed(repo: Path) -> None:
    renamed = "opportunities/2026/02/acme-trucks.yaml"
    text = dedent(BASE_FILES[OPPORTUNITY]).replace("id: acme-forklifts", "id: acme-trucks")
    write(repo, {OPPORTUNITY: None, renamed: text.replace("amount: 30000", "amount: 32000")})
    assert [(d.path, d.rule) for d in lint(repo).report.diagnostics] == [(renamed, "id-changed")]


# --- the command line -------------------------------------------------------------


@pytest.fixture
def skipped(repo: Path) -> Path:
    """The repository with a stage skip in the work tree."""
    write(repo, {OPPORTUNITY: SKIP})
    return repo


def test_cli_clean_exits_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 0
    out, err = capsys.readouterr()
    assert out == "All 19 files passed.\n"
    assert err == ""


def test_cli_text_report_exits_1(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 1
    assert capsys.readouterr().out == (
        f"{OPPORTUNITY}:5:8: error: stage moved from 'qualify' to 'negotiate', "
        "skipping 'proposal' [stage-skip]\n"
        "    4 | kind: standard-sale\n"
        "    5 | stage: negotiate\n"
        "      |        ^^^^^^^^^\n"
        "  hint: move to 'proposal' first; a standard sale goes through every stage\n"
        "\n"
        "Found 1 error in 1 file (19 files checked).\n"
    )


def test_cli_json(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"] == {"errors": 1, "warnings": 0, "files": 19}
    [d] = report["diagnostics"]
    assert (d["path"], d["line"], d["column"], d["severity"], d["rule"]) == (
        OPPORTUNITY,
        5,
        8,
        "error",
        "stage-skip",
    )
    assert d["record"] == "acme-forklifts" and d["commit"] is None


def test_cli_github(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "github"]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(
        f"::error file={OPPORTUNITY},line=5,col=8,endLine=5,endColumn=17,title=stage-skip::"
    )


def test_cli_github_is_the_default_under_github_actions(
    skipped: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["lint"]) == 1
    assert capsys.readouterr().out.startswith("::error file=")


def test_cli_sarif(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "sarif"]) == 1
    run_ = json.loads(capsys.readouterr().out)["runs"][0]
    [result] = run_["results"]
    assert result["ruleId"] == "stage-skip" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == OPPORTUNITY
    assert (region["region"]["startLine"], region["region"]["startColumn"]) == (5, 8)
    rule_ids = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert rule_ids[result["ruleIndex"]] == "stage-skip"


def test_cli_sarif_clean_has_empty_results(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "sarif"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["results"] == []


def test_cli_gitlab(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "gitlab"]) == 1
    [issue] = json.loads(capsys.readouterr().out)
    assert issue["check_name"] == "stage-skip"
    assert issue["location"] == {"path": OPPORTUNITY, "lines": {"begin": 5, "end": 5}}


def test_cli_summary(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(skipped, {"contacts/jane.yaml": None})
    assert main(["lint", "--summary"]) == 1
    assert capsys.readouterr().out == (
        "## crm lint\n"
        "\n"
        "2 errors, 0 warnings.\n"
        "\n"
        "### Pipeline\n"
        "\n"
        "- **+€3,000.00 weighted in Negotiate**\n"
        "- **−€3,000.00 weighted in Qualify**\n"
        "\n"
        "| stage | open before | open after | change | weighted before | weighted after "
        "| change |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        "| Qualify | €30,000.00 | €0.00 | −€30,000.00 | €3,000.00 | €0.00 | −€3,000.00 |\n"
        "| Negotiate | €0.00 | €30,000.00 | +€30,000.00 | €0.00 | €3,000.00 | +€3,000.00 |\n"
        "| **Total** | €30,000.00 | €30,000.00 | – | €3,000.00 | €3,000.00 | – |\n"
        "\n"
        "### Stage changes\n"
        "\n"
        "| opportunity | from | to | amount | by | findings |\n"
        "| --- | --- | --- | ---: | --- | --- |\n"
        "| Acme forklifts (`acme-forklifts`) | qualify | negotiate | 30,000.00 EUR "
        "| alice@example.com | `stage-skip` |\n"
        "\n"
        "<details><summary>Other findings</summary>\n"
        "\n"
        "- `contacts/jane.yaml:1:1` error: contact 'jane' was deleted [`record-deleted`]\n"
        "\n"
        "</details>\n"
    )


def test_cli_summary_of_a_clean_range(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {OPPORTUNITY: BASE_FILES[OPPORTUNITY].replace("qualify", "proposal")})
    commit_all(repo, "move")
    assert main(["lint", "--base", base, "--head", "HEAD", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "All lifecycle checks passed." in out
    assert "| Acme forklifts (`acme-forklifts`) | qualify | proposal | 30,000.00 EUR |" in out
    assert out.rstrip().endswith("| ok |")


@pytest.mark.parametrize("flag", ["--base", "--head"])
def test_cli_unknown_revision_exits_2(
    repo: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    assert main(["lint", flag, "no-such-branch"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "crm: error: unknown revision 'no-such-branch'\n"
        "  hint: give a branch, tag or commit id that exists in this repository\n"
    )


def test_cli_unknown_revision_in_a_real_process(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", "lint", "--base", "v9.9", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "crm: error: unknown revision 'v9.9'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_staged_and_head_are_exclusive(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["lint", "--staged", "--head", "HEAD"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def set_levels(root: Path, **levels: str) -> None:
    rules = "".join(f"    {rule.replace('_', '-')}: {level}\n" for rule, level in levels.items())
    write(root, {"crm.yaml": dedent(BASE_FILES["crm.yaml"]) + "lint:\n  rules:\n" + rules})


def test_cli_levels_from_crm_yaml(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_levels(skipped, stage_skip="warning")
    assert main(["lint"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{OPPORTUNITY}:5:8: warning: stage moved")
    assert main(["lint", "--strict"]) == 1
    assert main(["lint", "--strict", "--summary"]) == 1


def test_cli_level_off(skipped: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_levels(skipped, stage_skip="off")
    assert main(["lint", "--strict"]) == 0
    assert capsys.readouterr().out == "All 19 files passed.\n"


def test_cli_author_not_allowed_raised_to_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_levels(repo, author_not_allowed="error")
    base = commit_all(repo, "levels")
    write(repo, {OPPORTUNITY: BASE_FILES[OPPORTUNITY].replace("qualify", "proposal")})
    git(repo, "add", "-A")
    git(
        repo,
        "-c",
        "user.name=Bob",
        "commit",
        "-q",
        "-m",
        "move",
        "--author",
        "Bob <bob@example.com>",
    )
    assert main(["lint", "--base", base, "--head", "HEAD", "--format", "json"]) == 1
    [d] = json.loads(capsys.readouterr().out)["diagnostics"]
    assert (d["rule"], d["severity"]) == ("author-not-allowed", "error")
    assert d["commit"] == git(repo, "rev-parse", "HEAD").strip()


def test_cli_unknown_rule_in_crm_yaml_exits_2(
    skipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_levels(skipped, stage_skipped="warning")
    assert main(["lint"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "crm: error: crm.yaml: lint.rules: unknown rule 'stage-skipped'; "
        "did you mean 'stage-skip'?\n"
    )
