"""``crm lint --base REV --head REV``: every commit of the range is a step, merges are
checked against their first parent for what they changed themselves, and who made a
step is the commit's author e-mail in catalogs/people.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cases import commit, first_line
from conftest import BASE_FILES, dedent, git, write

from crmfiles.cli.main import main
from crmfiles.diagnostics import Diagnostic
from crmfiles.lint import lint

OPPORTUNITY = "opportunities/2026/01/acme-forklifts.yaml"
OPEN = dedent(BASE_FILES[OPPORTUNITY])
CLOSED_LOST = OPEN.replace(
    "status: in_progress\n", "status: lost\nclosed: true\nloss_reason: price\n"
).replace("probability: 10", "probability: 0")
PEOPLE = dedent(BASE_FILES["catalogs/people.yaml"])
CAROL = "- id: carol\n  name: Carol Diaz\n  emails: [carol@example.com]\n  roles: [sales]\n"


def at(stage: str, text: str = OPEN, **fields: str) -> str:
    """The opportunity in ``stage``, with other top-level fields replaced."""
    text = text.replace("stage: qualify", f"stage: {stage}")
    for key, value in fields.items():
        start = text.index(f"\n{key}: ") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{key}: {value}" + text[end:]
    return text


def found(root: Path, base: str, head: str = "HEAD") -> list[Diagnostic]:
    return lint(root, base=base, head=head).report.diagnostics


def head_of(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


# --- every commit of the range ------------------------------------------------------


def test_an_intermediate_skip_is_reported_in_its_commit(repo: Path) -> None:
    base = head_of(repo)
    write(repo, {OPPORTUNITY: "# straight to negotiate\n" + at("negotiate")})
    skipped = commit(repo, "skip to negotiate")
    write(repo, {OPPORTUNITY: at("proposal")})
    back = commit(repo, "back to proposal")

    # from the base (qualify) the end state (proposal) is one compliant step, but the
    # range shows each commit; so does a work tree head with --base
    diagnostics = found(repo, base)
    assert lint(repo, base=base).report.diagnostics == diagnostics
    assert [(first_line(d), d.commit) for d in diagnostics] == [
        (
            f"{OPPORTUNITY}:6:8: error: stage moved from 'qualify' to 'negotiate', "
            "skipping 'proposal' [stage-skip]",
            skipped,
        ),
        (
            f"{OPPORTUNITY}:5:8: error: stage moved back from 'negotiate' to 'proposal' "
            "[stage-back]",
            back,
        ),
    ]
    # the position and excerpt are the commit's own text, which the message is about
    assert diagnostics[0].excerpt == ((5, "kind: standard-sale"), (6, "stage: negotiate"))


def test_a_record_deleted_and_restored_is_reported(repo: Path) -> None:
    base = head_of(repo)
    write(repo, {"contacts/jane.yaml": None})
    deleted = commit(repo, "delete jane")
    write(repo, {"contacts/jane.yaml": BASE_FILES["contacts/jane.yaml"]})
    commit(repo, "restore jane")
    assert [(first_line(d), d.commit) for d in found(repo, base)] == [
        ("contacts/jane.yaml:1:1: error: contact 'jane' was deleted [record-deleted]", deleted)
    ]


def test_two_single_stage_moves_are_no_skip(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = head_of(repo)
    write(repo, {OPPORTUNITY: at("proposal", probability="40")})
    commit(repo, "crm: move acme-forklifts qualify -> proposal")
    write(repo, {OPPORTUNITY: at("negotiate", probability="70")})
    commit(repo, "crm: move acme-forklifts proposal -> negotiate")

    assert found(repo, base) == []
    assert main(["lint", "--base", base, "--head", "HEAD", "--summary"]) == 0
    assert (
        "| Acme forklifts (`acme-forklifts`) | qualify | negotiate | 30,000.00 EUR "
        "| Alice | ok |" in capsys.readouterr().out
    )


def test_the_text_report_names_the_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = head_of(repo)
    write(repo, {OPPORTUNITY: at("commit")})
    skipped = commit(repo, "skip")
    assert main(["lint", "--base", base, "--head", "HEAD"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("skipping 'proposal', 'negotiate' [stage-skip]")
    assert lines[1] == f"  in commit {skipped[:12]}"


def test_only_the_commits_of_the_branch_are_checked(repo: Path) -> None:
    git(repo, "branch", "feature")
    write(repo, {OPPORTUNITY: at("negotiate")})
    commit(repo, "a skip on main, after the branch point")
    git(repo, "checkout", "-q", "feature")
    write(repo, {"partners/globex.yaml": "id: globex\nname: Globex\nroles: [prospect]\n"})
    commit(repo, "new partner on the branch")
    assert found(repo, "main", "feature") == []


# --- merges ---------------------------------------------------------------------------


def test_a_merge_of_compliant_moves_is_clean(repo: Path) -> None:
    base = head_of(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {OPPORTUNITY: at("proposal", probability="40")})
    commit(repo, "qualify -> proposal")
    write(repo, {OPPORTUNITY: at("negotiate", probability="70")})
    commit(repo, "proposal -> negotiate")
    git(repo, "checkout", "-q", "main")
    write(repo, {"partners/globex.yaml": "id: globex\nname: Globex\nroles: [prospect]\n"})
    commit(repo, "new partner on main")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature")
    assert len(git(repo, "rev-parse", "HEAD^2").strip()) == 40

    # against its first parent the merge moves qualify -> negotiate; but it brings
    # that in from the branch, whose own commits are the steps to check
    assert found(repo, base) == []


def test_a_forbidden_conflict_resolution_is_reported_in_the_merge(repo: Path) -> None:
    base = head_of(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {OPPORTUNITY: at("proposal", probability="40")})
    commit(repo, "qualify -> proposal")
    git(repo, "checkout", "-q", "main")
    write(repo, {OPPORTUNITY: at("qualify", probability="15")})
    commit(repo, "probability 15")
    merge = subprocess.run(["git", "merge", "--no-edit", "feature"], cwd=repo, capture_output=True)
    assert merge.returncode == 1  # a conflict on the probability line
    # the resolution jumps to the last stage: against the first parent (main, still
    # in qualify) that skips two stages
    write(repo, {OPPORTUNITY: at("commit", probability="90")})
    merged = commit(repo, "merge feature")
    assert git(repo, "rev-parse", "HEAD^2").strip()

    assert [(first_line(d), d.commit) for d in found(repo, base)] == [
        (
            f"{OPPORTUNITY}:5:8: error: stage moved from 'qualify' to 'commit', "
            "skipping 'proposal', 'negotiate' [stage-skip]",
            merged,
        )
    ]


def test_a_branch_commit_is_judged_by_its_own_catalogs(repo: Path) -> None:
    """main adds a stage while a branch moves qualify -> proposal: on the branch that
    skipped nothing, whichever order the log lists the two commits in."""
    base = head_of(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {OPPORTUNITY: at("proposal", probability="40")})
    commit(repo, "qualify -> proposal")
    git(repo, "checkout", "-q", "main")
    stages = dedent(BASE_FILES["catalogs/stages.yaml"])
    kinds = dedent(BASE_FILES["catalogs/kinds.yaml"])
    write(
        repo,
        {
            "catalogs/stages.yaml": stages.replace(
                "- id: proposal", "- id: demo\n  name: Demo\n  probability: 20\n- id: proposal"
            ),
            "catalogs/kinds.yaml": kinds.replace(
                "[qualify, proposal,", "[qualify, demo, proposal,"
            ),
        },
    )
    commit(repo, "a demo stage")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature")
    assert found(repo, base) == []


# --- who may do what ----------------------------------------------------------------


@pytest.fixture
def team(repo: Path) -> str:
    """Carol joins the people, Bob the opportunity's team; the commit id."""
    write(repo, {"catalogs/people.yaml": PEOPLE + CAROL, OPPORTUNITY: OPEN + "team: [bob]\n"})
    return commit(repo, "carol joins; bob on the team")


@pytest.mark.parametrize(
    ("author", "who"),
    [
        ("alice@example.com", None),  # responsible
        ("bob@example.com", None),  # on the team
        ("mia@example.com", None),  # a manager
        ("carol@example.com", "carol (carol@example.com)"),  # in people, not on the team
        ("eve@elsewhere.test", "eve@elsewhere.test, who is not in catalogs/people.yaml"),
    ],
)
def test_author_of_a_stage_change(repo: Path, team: str, author: str, who: str | None) -> None:
    write(repo, {OPPORTUNITY: at("proposal", OPEN + "team: [bob]\n", probability="40")})
    moved = commit(repo, "move", author=author)
    diagnostics = found(repo, team)
    if who is None:
        assert diagnostics == []
        return
    assert [(first_line(d), d.commit) for d in diagnostics] == [
        (
            f"{OPPORTUNITY}:5:8: warning: stage changed by {who}; responsible is 'alice' "
            "[author-not-allowed]",
            moved,
        )
    ]


def test_author_matching_ignores_case(repo: Path, team: str) -> None:
    write(repo, {OPPORTUNITY: at("proposal", OPEN + "team: [bob]\n", probability="40")})
    commit(repo, "move", author="Mia@Example.COM")
    assert found(repo, team) == []


def test_a_close_by_a_stranger_is_warned_at_the_status(repo: Path, team: str) -> None:
    lost = at("qualify", OPEN + "team: [bob]\n", status="lost", probability="0")
    write(repo, {OPPORTUNITY: lost.replace("status: lost\n", "status: lost\nloss_reason: price\n")})
    commit(repo, "lost", author="carol@example.com")
    assert [first_line(d) for d in found(repo, team)] == [
        f"{OPPORTUNITY}:6:9: warning: closed by carol (carol@example.com); responsible is "
        "'alice' [author-not-allowed]"
    ]


def test_the_work_tree_has_no_author_to_judge(repo: Path) -> None:
    write(repo, {OPPORTUNITY: at("proposal", probability="40")})
    git(repo, "add", "-A")
    assert lint(repo).report.diagnostics == []
    assert lint(repo, staged=True).report.diagnostics == []


@pytest.fixture
def closed(repo: Path) -> str:
    write(repo, {OPPORTUNITY: CLOSED_LOST})
    return commit(repo, "lost on price")


def test_a_manager_may_reopen(repo: Path, closed: str) -> None:
    write(
        repo,
        {OPPORTUNITY: OPEN.replace("status: in_progress", "status: in_progress\nclosed: false")},
    )
    commit(repo, "reopen", author="mia@example.com")
    assert found(repo, closed) == []


def test_a_salesperson_may_not_reopen(repo: Path, closed: str) -> None:
    write(
        repo,
        {OPPORTUNITY: OPEN.replace("status: in_progress", "status: in_progress\nclosed: false")},
    )
    reopened = commit(repo, "reopen", author="bob@example.com")
    assert [(first_line(d), d.commit) for d in found(repo, closed)] == [
        (
            f"{OPPORTUNITY}:7:9: error: reopened by bob@example.com, who is not a manager "
            "[reopen-not-allowed]",
            reopened,
        )
    ]


def test_nobody_makes_themselves_a_manager_to_reopen(repo: Path, closed: str) -> None:
    promoted = PEOPLE.replace(
        "emails: [bob@example.com]\n  roles: [sales]",
        "emails: [bob@example.com]\n  roles: [sales, manager]",
    )
    assert promoted != PEOPLE
    write(
        repo,
        {
            "catalogs/people.yaml": promoted,
            OPPORTUNITY: OPEN.replace("status: in_progress", "status: in_progress\nclosed: false"),
        },
    )
    git(repo, "add", "-A")
    # staged (the pre-commit hook) and committed alike
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_AUTHOR_EMAIL", "bob@example.com")
        assert [d.rule for d in lint(repo, staged=True).report.diagnostics] == [
            "reopen-not-allowed"
        ]
    commit(repo, "promote and reopen", author="bob@example.com")
    assert [d.rule for d in found(repo, closed)] == ["reopen-not-allowed"]


def test_the_hook_judges_the_author_of_git_commit_author(repo: Path, closed: str) -> None:
    """`git commit --author` exports GIT_AUTHOR_EMAIL to its hooks; the user.email of
    the configuration is someone else."""
    git(repo, "config", "user.email", "bob@example.com")
    write(
        repo,
        {OPPORTUNITY: OPEN.replace("status: in_progress", "status: in_progress\nclosed: false")},
    )
    git(repo, "add", "-A")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_AUTHOR_EMAIL", "mia@example.com")
        assert lint(repo, staged=True).report.diagnostics == []
        mp.setenv("GIT_AUTHOR_EMAIL", "bob@example.com")
        assert [d.rule for d in lint(repo, staged=True).report.diagnostics] == [
            "reopen-not-allowed"
        ]


def test_a_repositorys_first_commit_may_bring_deals_under_way(tmp_path: Path) -> None:
    """stage-start is for a deal created in a CRM that exists: the commit that creates
    the repository (its kinds with it) brings existing deals at whatever stage."""
    root = tmp_path / "co"
    subprocess.run(
        [sys.executable, "-m", "crmfiles", "init", "--example", str(root)],
        check=True,
        capture_output=True,
    )
    empty = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    proc = subprocess.run(
        [sys.executable, "-m", "crmfiles", "lint", "--base", empty, "--head", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert "[stage-start]" not in proc.stdout, proc.stdout


# --- a step's record of the revision before it, wherever the work tree keeps it -------

TASK = "tasks/2026/02/call-acme.yaml"
TASK_TEXT = (
    "id: call-acme\ntitle: Call Acme\nassignee: alice\ndue: 2026-02-10\n"
    "subject:\n  type: opportunity\n  id: acme-forklifts\ncreated: 2026-02-01\n"
)


@pytest.mark.parametrize("work_tree", ["as committed", "moved", "deleted", "another id there"])
def test_a_step_reads_the_opportunity_as_its_parent_had_it(repo: Path, work_tree: str) -> None:
    """closed-source of a task made for an opportunity closed in the commit before:
    the opportunity is read as that commit has it, where the work tree keeps it or
    (moved, deleted, or another record's file there) where the commit's facts say."""
    write(repo, {OPPORTUNITY: CLOSED_LOST})
    base = commit(repo, "lost")
    write(repo, {TASK: TASK_TEXT})
    commit(repo, "a task for it")
    if work_tree == "moved":
        (repo / OPPORTUNITY).rename(repo / "opportunities/acme-forklifts.yaml")
    elif work_tree == "deleted":
        (repo / OPPORTUNITY).unlink()
    elif work_tree == "another id there":
        write(repo, {OPPORTUNITY: None, "opportunities/2026/01/acme-forklift.yaml": OPEN})
    diagnostics = found(repo, base)
    assert [(d.rule, d.location) for d in diagnostics] == [("closed-source", f"{TASK}:7:7")]
